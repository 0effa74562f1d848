import { describePubSubConformance } from "@outrig/conformance";
import { inProcessTimings } from "../pubsub-timings.ts";
import { mutants } from "./mutants.ts";

describePubSubConformance({
  name: "mutant ignores-partition-key",
  create: mutants["ignores-partition-key"],
  ...inProcessTimings,
  maxReadDurationMs: 3_000,
});
