import { randomUUID } from "node:crypto";
import type { LockStore } from "@outrig/core";
import { describe, it } from "vitest";
import { describeError } from "../state/context.ts";

export { expectCode, sleep } from "../state/context.ts";

/** Knobs for behaviour that differs legitimately between stores. */
export interface LockConformanceOptions {
  /** How long after its expiry a lock may still be held, for stores that expire lazily or by a clock of their own. Default 1000 ms. */
  expiryGraceMs?: number;
  /** Contenders racing for one lock in the mutual-exclusion cases. Default 100. */
  contenders?: number;
  /** How long `create()` may take before the suite fails. Default 60 s. */
  createTimeoutMs?: number;
}

export interface LockConformanceConfig {
  /** Shown in test names, e.g. `redis-7`. */
  name: string;
  /**
   * Creates an initialised store. Called once for the suite while it is collected, and again for
   * the second clients of the exclusion and durability cases (so it must reach the same backend).
   */
  create: () => Promise<LockStore>;
  /**
   * Whether locks live in a server, so that a second client sees them and they outlive the client
   * that took them. False for an in-process store, whose locks end with it. Default true.
   */
  durable?: boolean;
  options?: LockConformanceOptions;
  /** Extra store-specific cases sharing the suite's store and run id. */
  additionalTests?: (ctx: LockSuiteContext) => void;
}

export interface LockSuiteContext {
  readonly name: string;
  readonly store: LockStore;
  readonly durable: boolean;
  /** A UUID without dashes, unique per suite call: every resource id the suite uses starts with it. */
  readonly runId: string;
  readonly options: Required<LockConformanceOptions>;
  /** `runId + "-" + suffix`. */
  resource(suffix: string): string;
  /** Another client of the same backend, closed when the suite ends. */
  open(): Promise<LockStore>;
}

/**
 * The cases by id, each with the title prefix its tests carry; the mutation self-test matches
 * failing tests to the cases a broken store must fail.
 */
export const LOCK_CASES = {
  lifecycle: "lifecycle",
  basics: "basics",
  exclusion: "exclusion",
  expiry: "expiry",
  ownership: "ownership",
  durability: "durability",
  badInput: "bad input",
  close: "close",
} as const;

export type LockCaseId = keyof typeof LOCK_CASES;

/** Runs `config.create()`, failing with a clear message when it hangs or throws. */
export async function createLockStore(config: LockConformanceConfig): Promise<LockStore> {
  const timeoutMs = config.options?.createTimeoutMs ?? 60_000;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`${config.name}: create() did not finish within ${timeoutMs} ms`)),
      timeoutMs,
    );
  });
  try {
    return await Promise.race([config.create(), timeout]);
  } catch (error) {
    throw new Error(
      `${config.name}: create() failed, so no lock conformance case can run: ${describeError(error)}`,
      { cause: error },
    );
  } finally {
    clearTimeout(timer);
  }
}

export function createLockContext(
  config: LockConformanceConfig,
  store: LockStore,
  opened: LockStore[],
): LockSuiteContext {
  const runId = randomUUID().replaceAll("-", "");
  return {
    name: config.name,
    store,
    durable: config.durable ?? true,
    runId,
    options: {
      expiryGraceMs: config.options?.expiryGraceMs ?? 1000,
      contenders: config.options?.contenders ?? 100,
      createTimeoutMs: config.options?.createTimeoutMs ?? 60_000,
    },
    resource: (suffix) => `${runId}-${suffix}`,
    async open() {
      const other = await createLockStore(config);
      opened.push(other);
      return other;
    },
  };
}

/** A case group: groups run concurrently (each on its own resources), steps inside one in order. */
export function group(id: LockCaseId, body: () => void): void {
  describe(LOCK_CASES[id], { concurrent: true }, body);
}

/** One ordered step of a group; its title starts with the group's, for the mutation check. */
export function step(id: LockCaseId, name: string, fn: () => unknown, timeoutMs?: number): void {
  it.sequential(
    `${LOCK_CASES[id]}: ${name}`,
    async () => {
      await fn();
    },
    timeoutMs,
  );
}
