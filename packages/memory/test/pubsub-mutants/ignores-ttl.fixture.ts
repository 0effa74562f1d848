import { describePubSubConformance } from "@outrig/conformance";
import { inProcessTimings } from "../pubsub-timings.ts";
import { mutants } from "./mutants.ts";

describePubSubConformance({
  name: "mutant ignores-ttl",
  create: mutants["ignores-ttl"],
  ...inProcessTimings,
  maxReadDurationMs: 3_000,
});
