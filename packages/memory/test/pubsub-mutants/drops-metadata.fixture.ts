import { describePubSubConformance } from "@outrig/conformance";
import { inProcessTimings } from "../pubsub-timings.ts";
import { mutants } from "./mutants.ts";

describePubSubConformance({
  name: "mutant drops-metadata",
  create: mutants["drops-metadata"],
  ...inProcessTimings,
  maxReadDurationMs: 3_000,
});
