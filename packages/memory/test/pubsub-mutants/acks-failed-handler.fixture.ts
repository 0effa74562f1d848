import { describePubSubConformance } from "@outrig/conformance";
import { inProcessTimings } from "../pubsub-timings.ts";
import { mutants } from "./mutants.ts";

describePubSubConformance({
  name: "mutant acks-failed-handler",
  create: mutants["acks-failed-handler"],
  ...inProcessTimings,
  maxReadDurationMs: 3_000,
});
