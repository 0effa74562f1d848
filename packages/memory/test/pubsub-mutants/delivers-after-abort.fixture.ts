import { describePubSubConformance } from "@outrig/conformance";
import { inProcessTimings } from "../pubsub-timings.ts";
import { mutants } from "./mutants.ts";

describePubSubConformance({
  name: "mutant delivers-after-abort",
  create: mutants["delivers-after-abort"],
  ...inProcessTimings,
  maxReadDurationMs: 3_000,
});
