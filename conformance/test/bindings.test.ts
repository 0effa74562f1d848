import { describeBindingConformance } from "../src/bindings/index.ts";
import { LoopbackBinding, outputOnly, TickerBinding } from "./bindings-loopback.ts";

// The suite against an in-process queue binding with both sides: every case, the round trip.
describeBindingConformance({
  name: "loopback",
  createOutput: async (ctx) => new LoopbackBinding(ctx.unique()),
  createInput: async (ctx) => new LoopbackBinding(ctx.unique()),
  operations: ["operations", "read", "create", "get", "list", "delete"],
  outputMetadata: (ctx) => ({ key: ctx.unique("key") }),
  readWaitMs: 50,
  quietPeriodMs: 200,
  readTimeoutMs: 5_000,
});

// The "kept" guarantee: a failed event survives its reader and reaches the next one.
describeBindingConformance({
  name: "loopback-kept",
  createOutput: async (ctx) => new LoopbackBinding(ctx.unique()),
  createInput: async (ctx) => new LoopbackBinding(ctx.unique()),
  operations: ["read", "create", "get", "list", "delete"],
  inputFailure: "kept",
  readWaitMs: 50,
  quietPeriodMs: 200,
  readTimeoutMs: 5_000,
});

// Output only: the undeclared standard operations reject, the input side is absent.
describeBindingConformance({
  name: "loopback-output-only",
  createOutput: async (ctx) => outputOnly(new LoopbackBinding(ctx.unique())),
  operations: ["operations", "create", "get", "list", "delete"],
  outputData: "plain bytes",
  quietPeriodMs: 200,
});

// Input only, a source like cron: no round trip, failures must not stop later events.
describeBindingConformance({
  name: "ticker",
  createInput: async () => new TickerBinding(100),
  operations: ["read"],
  inputFailure: "next-event",
  readWaitMs: 50,
  quietPeriodMs: 300,
  readTimeoutMs: 5_000,
});
