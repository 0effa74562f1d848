import { describeBindingConformance } from "@outrig/conformance";
import { createCronBinding, cronBindingDefinition } from "../src/index.ts";

// Dapr's tests.yml: cron with `@every 1s`, operation read; verify read is an observed tick.
describeBindingConformance({
  name: "cron-every-1s",
  definition: cronBindingDefinition,
  createInput: () => createCronBinding({ schedule: "@every 1s" }),
  operations: ["read"],
  inputFailure: "next-event",
  readWaitMs: 100,
  readTimeoutMs: 10_000,
  // Longer than one tick, so a tick after close would be seen.
  quietPeriodMs: 2_500,
});

// A six-field expression with seconds.
describeBindingConformance({
  name: "cron-seconds-field",
  definition: cronBindingDefinition,
  createInput: () => createCronBinding({ schedule: "* * * * * *" }),
  operations: ["read"],
  inputFailure: "next-event",
  readWaitMs: 100,
  readTimeoutMs: 10_000,
  quietPeriodMs: 2_500,
});
