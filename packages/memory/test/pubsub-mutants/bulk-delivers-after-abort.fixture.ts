import { describePubSubConformance } from "@outrig/conformance";
import { inProcessTimings } from "../pubsub-timings.ts";
import { mutants } from "./mutants.ts";

describePubSubConformance({
  name: "mutant bulk-delivers-after-abort",
  create: mutants["bulk-delivers-after-abort"],
  ...inProcessTimings,
  maxReadDurationMs: 3_000,
});
