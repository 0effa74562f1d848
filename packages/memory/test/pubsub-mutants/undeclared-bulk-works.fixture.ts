import { describePubSubConformance } from "@outrig/conformance";
import { inProcessTimings } from "../pubsub-timings.ts";
import { mutants } from "./mutants.ts";

describePubSubConformance({
  name: "mutant undeclared-bulk-works",
  create: mutants["undeclared-bulk-works"],
  ...inProcessTimings,
  maxReadDurationMs: 3_000,
});
