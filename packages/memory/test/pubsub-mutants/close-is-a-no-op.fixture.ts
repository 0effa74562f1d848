import { describePubSubConformance } from "@outrig/conformance";
import { inProcessTimings } from "../pubsub-timings.ts";
import { mutants } from "./mutants.ts";

describePubSubConformance({
  name: "mutant close-is-a-no-op",
  create: mutants["close-is-a-no-op"],
  ...inProcessTimings,
  maxReadDurationMs: 3_000,
});
