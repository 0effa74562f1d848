import { describePubSubConformance } from "@outrig/conformance";
import { inProcessTimings } from "../pubsub-timings.ts";
import { mutants } from "./mutants.ts";

describePubSubConformance({
  name: "mutant drops-bulk-subscribe-entry",
  create: mutants["drops-bulk-subscribe-entry"],
  ...inProcessTimings,
  maxReadDurationMs: 3_000,
});
