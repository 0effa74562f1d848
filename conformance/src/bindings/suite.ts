import { randomUUID } from "node:crypto";
import {
  type BindingEvent,
  type BindingHandler,
  bytesEqual,
  ComponentError,
  type InputBinding,
  type InvokeResponse,
  isInputBinding,
  isOutputBinding,
  type OutputBinding,
  STANDARD_OPERATIONS,
  utf8,
} from "@outrig/core";
import { afterAll, describe, expect, it } from "vitest";
import { sleep } from "../pubsub/wait.ts";
import { waitUntil } from "../testing/wait.ts";
import {
  type BindingConformanceConfig,
  type BindingSuiteContext,
  resolveConfig,
} from "./config.ts";
import { eventPayload, parseEventPayload } from "./payload.ts";

/**
 * The title prefix of every case; the number in parentheses is the case of dapr-conformance.md
 * §3.2 it implements ("beyond" cases have none).
 */
export const BINDING_CASES = {
  init: "init (1)",
  ping: "ping (2)",
  operations: "operations (3)",
  read: "read (4)",
  create: "create (5)",
  get: "get (6)",
  list: "list (7)",
  verifyRead: "verify read (8)",
  handlerFailure: "handler failure",
  delete: "delete (9)",
  closeInput: "close input (10)",
  abort: "abort read",
  closeOutput: "close output (10)",
  absentSide: "absent side",
} as const;

const UNKNOWN_OPERATION = "outrig-conformance-unknown-operation";

/** Handler calls of one reader: counts, per-sequence attempts, and calls after it was closed. */
class ReadLog {
  calls = 0;
  callsAfterStop = 0;
  /** Events whose data was not a Uint8Array or whose metadata was not an object. */
  malformed = 0;
  failures = 0;
  /** Calls that succeeded after the latest deliberate failure. */
  successesAfterFailure = 0;
  readonly attempts = new Map<number, number>();
  readonly handled = new Map<number, Uint8Array>();
  /** Deliveries of a sequence still to fail on purpose (`Infinity`: every one). */
  readonly failSeq = new Map<number, number>();
  /** Calls of any kind still to fail on purpose (for sources whose events carry no sequence). */
  failAny = 0;

  describe(): string {
    return `calls ${this.calls}, failures ${this.failures}, attempts ${JSON.stringify([...this.attempts])}, handled ${JSON.stringify([...this.handled.keys()])}`;
  }
}

/**
 * Registers the bindings conformance suite for one binding configuration: every case of Dapr's
 * bindings suite (components-contrib tests/conformance/bindings), with the input and output sides
 * checked separately (each side's own cases, and the absent side really absent) and together (a
 * created event makes the round trip to the reader, byte for byte), plus a failing-handler case
 * that checks the binding's declared guarantee, and a read ended by its AbortSignal. Cases share
 * one output and one input instance and run in order.
 */
export function describeBindingConformance(config: BindingConformanceConfig): void {
  const c = resolveConfig(config);
  const runId = randomUUID().replaceAll("-", "").slice(0, 16);
  const ctx: BindingSuiteContext = {
    runId,
    unique: (suffix) => (suffix ? `conf-${runId}-${suffix}` : `conf-${runId}`),
  };
  const listed = (op: string): boolean => c.operations.includes(op.toLowerCase());
  const mainData = c.outputData ?? eventPayload(runId, 1);
  const caseTimeout = c.readTimeoutMs + c.readWaitMs + 3 * c.quietPeriodMs + 20_000;

  let output: OutputBinding | undefined;
  let input: InputBinding | undefined;
  let createRan = false;
  const log = new ReadLog();
  const cleanup: (() => Promise<void>)[] = [];

  const needOutput = (): OutputBinding => {
    if (!output) throw new Error(`${c.name}: no output binding to test: the init case failed`);
    return output;
  };
  const needInput = (): InputBinding => {
    if (!input) throw new Error(`${c.name}: no input binding to test: the init case failed`);
    return input;
  };
  // invoke may mutate metadata, so every call gets its own copy (as in Dapr's suite).
  const invoke = (operation: string, data?: Uint8Array): Promise<InvokeResponse> =>
    needOutput().invoke({
      operation,
      metadata: { ...c.outputMetadata(ctx) },
      ...(data ? { data } : {}),
    });
  const sequenceOf = (data: Uint8Array): number | undefined =>
    bytesEqual(data, mainData) ? 1 : parseEventPayload(data, runId);

  /** A handler for one reader; calls that start once `reader.stopped` is set are counted as wrong. */
  const readerHandler = (reader: { stopped: boolean }): BindingHandler => {
    return async (event: BindingEvent) => {
      if (reader.stopped) log.callsAfterStop++;
      log.calls++;
      if (!(event.data instanceof Uint8Array) || typeof event.metadata !== "object") {
        log.malformed++;
      }
      const seq = c.roundTrip ? sequenceOf(event.data) : undefined;
      if (seq !== undefined) log.attempts.set(seq, (log.attempts.get(seq) ?? 0) + 1);
      const toFail = seq === undefined ? 0 : (log.failSeq.get(seq) ?? 0);
      if (toFail > 0 && seq !== undefined) {
        log.failSeq.set(seq, toFail - 1);
        log.failures++;
        log.successesAfterFailure = 0;
        throw new Error(`conformance: deliberate failure of event ${seq}`);
      }
      if (log.failAny > 0) {
        log.failAny--;
        log.failures++;
        log.successesAfterFailure = 0;
        throw new Error("conformance: deliberate failure");
      }
      log.successesAfterFailure++;
      if (seq !== undefined && !log.handled.has(seq)) log.handled.set(seq, event.data);
      return null;
    };
  };
  let mainReader = { stopped: false };

  describe.sequential(`bindings conformance: ${c.name}`, () => {
    afterAll(async () => {
      await Promise.allSettled([input?.close(), output?.close(), ...cleanup.map((f) => f())]);
    });

    it(
      `${BINDING_CASES.init}: the configured sides are created${c.definition ? " and match the manifest's directions" : ""}`,
      async () => {
        if (c.definition) {
          expect(c.definition.kind).toBe("bindings");
          expect(c.definition.type).toMatch(/^bindings\./);
          const sides = [
            ...(c.createInput ? ["input"] : []),
            ...(c.createOutput ? ["output"] : []),
          ];
          expect([...c.definition.directions].sort(), "manifest directions").toEqual(sides);
        }
        if (c.createOutput) {
          output = await c.createOutput(ctx);
          expect(isOutputBinding(output), "createOutput must return an output binding").toBe(true);
          expect(typeof output.operations).toBe("function");
        }
        if (c.createInput) {
          input = await c.createInput(ctx);
          expect(isInputBinding(input), "createInput must return an input binding").toBe(true);
        }
      },
      caseTimeout,
    );

    if (!c.createOutput || !c.createInput) {
      const absent = c.createOutput ? "input" : "output";
      it(`${BINDING_CASES.absentSide}: the ${absent} side is absent (no ${absent === "input" ? "read" : "invoke"} method)`, () => {
        const present = output ?? input;
        expect(present, "the init case failed").toBeDefined();
        if (absent === "input") expect(isInputBinding(present)).toBe(false);
        else expect(isOutputBinding(present)).toBe(false);
      });
    }

    it(
      `${BINDING_CASES.ping}: every side under test answers`,
      async () => {
        if (c.createOutput) await expect(needOutput().ping()).resolves.toBeUndefined();
        if (c.createInput) await expect(needInput().ping()).resolves.toBeUndefined();
      },
      caseTimeout,
    );

    if (c.createOutput) {
      it(
        `${BINDING_CASES.operations}: operations() lists every configured operation (case-insensitive), every declared standard operation is configured, and undeclared ones reject with ERR_NOT_SUPPORTED`,
        async () => {
          const declared = needOutput().operations();
          expect(Array.isArray(declared)).toBe(true);
          const lower = declared.map((o) => o.toLowerCase());
          for (const op of c.operations.filter((o) => o !== "operations" && o !== "read")) {
            expect(lower, `operation ${op} is configured but not in operations()`).toContain(op);
          }
          for (const op of STANDARD_OPERATIONS) {
            if (lower.includes(op)) {
              expect(
                c.operations,
                `operations() declares ${op}: list it in the config so it is tested`,
              ).toContain(op);
            }
          }
          await expectNotSupported(invoke(UNKNOWN_OPERATION), UNKNOWN_OPERATION);
        },
        caseTimeout,
      );
    }

    if (c.createInput) {
      it(
        `${BINDING_CASES.read}: read resolves once reading started; the handler counts calls`,
        async () => {
          await needInput().read(readerHandler(mainReader));
          // Brokers drop events sent before a consumer exists (Dapr's readBindingWait).
          await sleep(c.readWaitMs);
        },
        caseTimeout,
      );
    }

    if (c.createOutput) {
      const standardCase = (
        name: string,
        op: (typeof STANDARD_OPERATIONS)[number],
        positive: string,
        body: () => Promise<void>,
      ): void => {
        it(
          `${name}: ${listed(op) ? positive : `${op} is not declared, so invoking it rejects with ERR_NOT_SUPPORTED`}`,
          async () => {
            if (listed(op)) await body();
            else await expectNotSupported(invoke(op), op);
          },
          caseTimeout,
        );
      };

      standardCase(
        BINDING_CASES.create,
        "create",
        "create with outputData and the output metadata succeeds",
        async () => {
          const response = await invoke("create", mainData);
          expect(response).toBeTypeOf("object");
          createRan = true;
        },
      );

      standardCase(
        BINDING_CASES.get,
        "get",
        `get succeeds${listed("create") ? " and returns the created data" : ""}`,
        async () => {
          const response = await invoke("get");
          if (listed("create")) {
            expect(createRan, "the create case failed").toBe(true);
            expect(response.data, "get after create returned no data").toBeInstanceOf(Uint8Array);
            expect(utf8(response.data as Uint8Array)).toBe(utf8(mainData));
          }
        },
      );

      standardCase(BINDING_CASES.list, "list", "list succeeds", async () => {
        const response = await invoke("list");
        expect(response).toBeTypeOf("object");
      });
    }

    if (c.createInput) {
      it(
        `${BINDING_CASES.verifyRead}: ${c.roundTrip ? "the created event reaches the handler byte for byte" : "the handler is called at least once"} within ${c.readTimeoutMs} ms`,
        async () => {
          if (c.roundTrip) {
            expect(createRan, "the create case failed").toBe(true);
            await waitUntil(
              () => log.handled.has(1),
              c.readTimeoutMs,
              () => log.describe(),
            );
            expect(utf8(log.handled.get(1) as Uint8Array)).toBe(utf8(mainData));
          } else {
            await waitUntil(
              () => log.calls > 0,
              c.readTimeoutMs,
              () => log.describe(),
            );
          }
          expect(log.malformed, "events without Uint8Array data or a metadata object").toBe(0);
        },
        caseTimeout,
      );

      const guarantee = {
        redelivered: "an event whose handler threw twice is handed to the handler a third time",
        kept: "an event whose handler threw is kept and reaches a new reader after the failing one closed",
        "next-event": "after a handler throws, later events still reach the handler",
      }[c.inputFailure];
      it(
        `${BINDING_CASES.handlerFailure}: the event is not lost (${c.inputFailure}): ${guarantee}`,
        async () => {
          if (c.inputFailure === "redelivered") {
            log.failSeq.set(2, 2);
            await invoke("create", eventPayload(runId, 2));
            await waitUntil(
              () => log.handled.has(2),
              c.readTimeoutMs,
              () => log.describe(),
            );
            expect(log.attempts.get(2)).toBeGreaterThanOrEqual(3);
          } else if (c.inputFailure === "kept") {
            log.failSeq.set(2, Number.POSITIVE_INFINITY);
            await invoke("create", eventPayload(runId, 2));
            await waitUntil(
              () => (log.attempts.get(2) ?? 0) > 0,
              c.readTimeoutMs,
              () => log.describe(),
            );
            await needInput().close();
            mainReader.stopped = true;
            log.failSeq.set(2, 0);
            mainReader = { stopped: false };
            input = await (c.createInput as NonNullable<typeof c.createInput>)(ctx);
            await input.read(readerHandler(mainReader));
            await waitUntil(
              () => log.handled.has(2),
              c.readTimeoutMs,
              () => log.describe(),
            );
          } else if (c.roundTrip) {
            log.failSeq.set(2, Number.POSITIVE_INFINITY);
            await invoke("create", eventPayload(runId, 2));
            await invoke("create", eventPayload(runId, 3));
            await waitUntil(
              () => log.handled.has(3) && (log.attempts.get(2) ?? 0) > 0,
              c.readTimeoutMs,
              () => log.describe(),
            );
            log.failSeq.set(2, 0);
          } else {
            const failuresBefore = log.failures;
            log.failAny = 1;
            await waitUntil(
              () => log.failures > failuresBefore && log.successesAfterFailure > 0,
              c.readTimeoutMs,
              () => log.describe(),
            );
          }
        },
        caseTimeout,
      );
    }

    if (c.createOutput) {
      it(
        `${BINDING_CASES.delete}: ${listed("delete") ? `delete succeeds${listed("create") && listed("get") ? ", and a later get returns null data" : ""}` : "delete is not declared, so invoking it rejects with ERR_NOT_SUPPORTED"}`,
        async () => {
          if (!listed("delete")) {
            await expectNotSupported(invoke("delete"), "delete");
          } else {
            await invoke("delete");
            if (listed("create") && listed("get")) {
              const response = await invoke("get");
              expect(response.data ?? null, "get after delete").toBeNull();
            }
          }
        },
        caseTimeout,
      );
    }

    if (c.createInput) {
      it(
        `${BINDING_CASES.closeInput}: close is idempotent, the handler is not called after close resolved, and a later read rejects with a ComponentError`,
        async () => {
          const reader = needInput();
          await reader.close();
          mainReader.stopped = true;
          await reader.close();
          if (c.roundTrip) await invoke("create", eventPayload(runId, 4));
          await sleep(c.quietPeriodMs);
          expect(log.callsAfterStop, "handler calls after close resolved").toBe(0);
          const error = await reader
            .read(async () => null)
            .then(
              () => undefined,
              (e: unknown) => e,
            );
          expect(error, "read after close must reject (ERR_CLOSED recommended)").toBeInstanceOf(
            ComponentError,
          );
        },
        caseTimeout,
      );

      it(
        `${BINDING_CASES.abort}: a read whose AbortSignal fired calls its handler no more`,
        async () => {
          const reader = await (c.createInput as NonNullable<typeof c.createInput>)(ctx);
          cleanup.push(() => reader.close());
          const controller = new AbortController();
          let calls = 0;
          let callsAfterAbort = 0;
          let seen = false;
          await reader.read(async (event) => {
            if (controller.signal.aborted) callsAfterAbort++;
            calls++;
            if (!c.roundTrip || sequenceOf(event.data) === 5) seen = true;
            return null;
          }, controller.signal);
          await sleep(c.readWaitMs);
          if (c.roundTrip) await invoke("create", eventPayload(runId, 5));
          await waitUntil(
            () => seen,
            c.readTimeoutMs,
            () => `the reader got ${calls} calls`,
          );
          controller.abort();
          if (c.roundTrip) await invoke("create", eventPayload(runId, 6));
          await sleep(c.quietPeriodMs);
          expect(callsAfterAbort, "handler calls after abort").toBe(0);
          await reader.close();
        },
        caseTimeout,
      );
    }

    if (c.createOutput) {
      it(
        `${BINDING_CASES.closeOutput}: close is idempotent and a later invoke rejects with a ComponentError`,
        async () => {
          const binding = needOutput();
          await binding.close();
          await binding.close();
          const error = await invoke(
            listed("create") ? "create" : UNKNOWN_OPERATION,
            mainData,
          ).then(
            () => undefined,
            (e: unknown) => e,
          );
          expect(error, "invoke after close must reject (ERR_CLOSED recommended)").toBeInstanceOf(
            ComponentError,
          );
        },
        caseTimeout,
      );
    }
  });
}

async function expectNotSupported(promise: Promise<unknown>, operation: string): Promise<void> {
  const outcome = await promise.then(
    () => ({ rejected: false as const }),
    (error: unknown) => ({ rejected: true as const, error }),
  );
  if (!outcome.rejected) {
    throw new Error(
      `invoking ${operation} resolved although operations() does not declare it: declare it, or reject with ComponentError ERR_NOT_SUPPORTED`,
    );
  }
  expect(outcome.error).toBeInstanceOf(ComponentError);
  expect((outcome.error as ComponentError).code).toBe("ERR_NOT_SUPPORTED");
}
