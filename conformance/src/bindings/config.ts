import type { BindingDefinition, InputBinding, Metadata, OutputBinding } from "@outrig/core";

/** Handed to the factories and metadata builders: unique names for this suite registration. */
export interface BindingSuiteContext {
  /** Unique per `describeBindingConformance` call; put it in queue, topic and key names. */
  readonly runId: string;
  /** `conf-<runId>` or `conf-<runId>-<suffix>`: a queue, topic, key or path nobody else uses. */
  unique(suffix?: string): string;
}

/**
 * What a binding guarantees for an event whose input handler threw, checked by the
 * `handler failure` case:
 * - `redelivered`: the same event is handed to the handler again by the same reader (a broker nack
 *   with requeue, an uncommitted Kafka offset, an in-process retry);
 * - `kept`: the event is not acknowledged, so it stays on the broker and a new reader (after the
 *   failing one closed) receives it;
 * - `next-event`: events are not retried (a cron tick is gone once it fired), but the failure
 *   does not stop the binding: later events still reach the handler.
 */
export type InputFailureGuarantee = "redelivered" | "kept" | "next-event";

export interface BindingConformanceConfig {
  /** Shown in test names, e.g. `rabbitmq` or `cron-every-second`. */
  name: string;
  /** Creates an initialised output side (Dapr's `output` metadata goes here). */
  createOutput?: (ctx: BindingSuiteContext) => Promise<OutputBinding>;
  /** Creates an initialised input side (Dapr's `input` metadata goes here). */
  createInput?: (ctx: BindingSuiteContext) => Promise<InputBinding>;
  /**
   * Dapr's tests.yml `operations`: `operations` (check `operations()`), `read` (the input side),
   * `create`, `get`, `list`, `delete`, and any component operation (`increment`, `exec`, ...),
   * which is only checked against `operations()`. Case-insensitive.
   */
  operations: readonly string[];
  /** The payload of `create`. Default: a JSON array holding one CloudEvent-like object naming the run. */
  outputData?: Uint8Array | string;
  /** Request metadata of every invoke (copied per call), e.g. `{ key: ctx.unique() }` for redis. */
  outputMetadata?: Metadata | ((ctx: BindingSuiteContext) => Metadata);
  /** Dapr's `readBindingTimeout`: how long verify read waits for the handler. Default 60 s. */
  readTimeoutMs?: number;
  /** Dapr's `readBindingWait`: the pause after read starts, before anything is created. Default 1 s. */
  readWaitMs?: number;
  /** How long to watch for a handler call that must not happen (after close). Default 2 s. */
  quietPeriodMs?: number;
  /** What the binding guarantees when an input handler throws. Default `redelivered`. */
  inputFailure?: InputFailureGuarantee;
  /**
   * Events the input side reads come from the output side's `create` (a broker round trip), so
   * verify read expects the created bytes. Default: true when both sides exist and `create` and
   * `read` are listed; false for a source such as cron.
   */
  roundTrip?: boolean;
  /** The manifest entry: its `directions` must match the sides under test. */
  definition?: BindingDefinition;
}

export interface ResolvedConfig {
  name: string;
  createOutput: BindingConformanceConfig["createOutput"];
  createInput: BindingConformanceConfig["createInput"];
  operations: string[];
  outputData: Uint8Array | undefined;
  outputMetadata: (ctx: BindingSuiteContext) => Metadata;
  readTimeoutMs: number;
  readWaitMs: number;
  quietPeriodMs: number;
  inputFailure: InputFailureGuarantee;
  roundTrip: boolean;
  definition: BindingDefinition | undefined;
}

export function resolveConfig(config: BindingConformanceConfig): ResolvedConfig {
  const operations = config.operations.map((o) => o.toLowerCase());
  const has = (op: string): boolean => operations.includes(op);
  if (has("read") !== (config.createInput !== undefined)) {
    throw new Error(
      `${config.name}: list "read" in operations exactly when createInput is given (the input side is what read tests)`,
    );
  }
  const outputOps = operations.filter((o) => o !== "read");
  if (outputOps.length > 0 && config.createOutput === undefined) {
    throw new Error(
      `${config.name}: operations ${outputOps.join(", ")} need createOutput (only "read" tests the input side)`,
    );
  }
  if (config.createOutput === undefined && config.createInput === undefined) {
    throw new Error(`${config.name}: give createOutput, createInput or both`);
  }
  const roundTrip =
    config.roundTrip ??
    (config.createOutput !== undefined && config.createInput !== undefined && has("create"));
  if (roundTrip && !(has("create") && has("read"))) {
    throw new Error(`${config.name}: roundTrip needs both "create" and "read" in operations`);
  }
  const inputFailure = config.inputFailure ?? "redelivered";
  if (config.createInput && !roundTrip && inputFailure !== "next-event") {
    throw new Error(
      `${config.name}: inputFailure "${inputFailure}" is checked by sending an event through the output side; without a round trip only "next-event" can be checked`,
    );
  }
  const metadata = config.outputMetadata;
  return {
    name: config.name,
    createOutput: config.createOutput,
    createInput: config.createInput,
    operations,
    outputData:
      typeof config.outputData === "string"
        ? new TextEncoder().encode(config.outputData)
        : config.outputData,
    outputMetadata: typeof metadata === "function" ? metadata : () => ({ ...(metadata ?? {}) }),
    readTimeoutMs: config.readTimeoutMs ?? 60_000,
    readWaitMs: config.readWaitMs ?? 1_000,
    quietPeriodMs: config.quietPeriodMs ?? 2_000,
    inputFailure,
    roundTrip,
    definition: config.definition,
  };
}
