import { describePubSubConformance } from "@outrig/conformance";
import { inProcessTimings } from "../pubsub-timings.ts";
import { mutants } from "./mutants.ts";

describePubSubConformance({
  name: "mutant drops-bulk-publish-entry",
  create: mutants["drops-bulk-publish-entry"],
  ...inProcessTimings,
  maxReadDurationMs: 3_000,
});
