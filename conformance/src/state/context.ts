import { randomUUID } from "node:crypto";
import {
  BulkError,
  ComponentError,
  decodeJson,
  type ErrorCode,
  ETagError,
  type ETagErrorKind,
  type StateCapability,
  type StateStore,
  type ValueKind,
  valueKind,
} from "@outrig/core";
import { describe, expect, it } from "vitest";

/** Knobs for behaviour that differs legitimately between stores (not capabilities). */
export interface StateConformanceOptions {
  /**
   * Whether reads of an item with a TTL report `ttlExpireTime` (Redis does not). Default true.
   * When false, the ttlExpireTime cases are replaced by a check that the item still reads back.
   */
  ttlExpireTime?: boolean;
  /** How long after its TTL an item may still be read, for stores that expire lazily. Default 1000 ms. */
  ttlGraceMs?: number;
  /** Keys written for the "keysLike has no default page limit" case. Default 1025 (as Dapr). */
  keysLikeManyKeys?: number;
  /** How long `create()` may take before the suite fails (collection has no timeout of its own). Default 60 s. */
  createTimeoutMs?: number;
  /**
   * Whether reads report each value's kind (JSON or bytes), as stores whose layout records it do
   * (PostgreSQL v1 `isbinary`, SQLite `is_binary`, DynamoDB S vs B). False for layouts that keep
   * both as the same bytes (Redis, PostgreSQL v2): then reads must not claim a kind. Default true.
   */
  valueKind?: boolean;
}

export interface StateConformanceConfig {
  /** Shown in test names, e.g. `redis-7` or `postgresql-custom-table`. */
  name: string;
  /**
   * Creates an initialised store; called once per suite, while the suite is collected, because the
   * store's declared capabilities decide which tests exist.
   */
  create: () => Promise<StateStore>;
  /** An ETag the store parses but that matches nothing (numeric for Redis, etc.). Default `bad-etag`. */
  badEtag?: string;
  options?: StateConformanceOptions;
  /** Extra store-specific cases that share the suite's store and run id (unstorage's hook). */
  additionalTests?: (ctx: StateSuiteContext) => void;
}

export interface StateSuiteContext {
  readonly name: string;
  readonly store: StateStore;
  /** A UUID without dashes, unique per suite call: every key the suite writes starts with it. */
  readonly runId: string;
  readonly badEtag: string;
  readonly options: Required<StateConformanceOptions>;
  /** `runId + "-" + suffix`. */
  key(suffix: string): string;
  has(capability: StateCapability): boolean;
}

/** Runs `config.create()`, failing with a clear message when it hangs or throws. */
export async function createStore(config: StateConformanceConfig): Promise<StateStore> {
  const timeoutMs = config.options?.createTimeoutMs ?? 60_000;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(
          new Error(
            `${config.name}: create() did not finish within ${timeoutMs} ms (init, case 1)`,
          ),
        ),
      timeoutMs,
    );
  });
  try {
    return await Promise.race([config.create(), timeout]);
  } catch (error) {
    throw new Error(
      `${config.name}: create() failed, so no state conformance case can run (init, case 1): ${describeError(error)}`,
      { cause: error },
    );
  } finally {
    clearTimeout(timer);
  }
}

export function createContext(
  config: StateConformanceConfig,
  store: StateStore,
): StateSuiteContext {
  const runId = randomUUID().replaceAll("-", "");
  return {
    name: config.name,
    store,
    runId,
    badEtag: config.badEtag ?? "bad-etag",
    options: {
      ttlExpireTime: config.options?.ttlExpireTime ?? true,
      ttlGraceMs: config.options?.ttlGraceMs ?? 1000,
      keysLikeManyKeys: config.options?.keysLikeManyKeys ?? 1025,
      createTimeoutMs: config.options?.createTimeoutMs ?? 60_000,
      valueKind: config.options?.valueKind ?? true,
    },
    key: (suffix) => `${runId}-${suffix}`,
    has: (capability) => store.capabilities.has(capability),
  };
}

/**
 * A capability group: groups run concurrently with each other (each uses its own keys), while the
 * steps inside one group run in order, as Dapr's numbered cases build on each other.
 */
export function group(name: string, body: () => void): void {
  describe(name, { concurrent: true }, body);
}

/** One ordered step of a group. */
export function step(name: string, fn: () => unknown, timeoutMs?: number): void {
  it.sequential(
    name,
    async () => {
      await fn();
    },
    timeoutMs,
  );
}

export const JSON_METADATA = { contentType: "application/json" } as const;

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Settles `promise` and returns its rejection reason, failing when it resolved. */
export async function rejection(promise: Promise<unknown>, what: string): Promise<unknown> {
  const outcome = await promise.then(
    (value) => ({ ok: true as const, value }),
    (error: unknown) => ({ ok: false as const, error }),
  );
  if (outcome.ok) {
    expect.fail(`${what}: expected a rejection, but it resolved with ${safeJson(outcome.value)}`);
  }
  return (outcome as { error: unknown }).error;
}

export async function expectCode(
  promise: Promise<unknown>,
  code: ErrorCode,
  what: string,
): Promise<ComponentError> {
  const error = await rejection(promise, what);
  expect(
    error,
    `${what}: must reject with a ComponentError (${code}), got ${describeError(error)}`,
  ).toBeInstanceOf(ComponentError);
  expect((error as ComponentError).code, `${what}: wrong error code`).toBe(code);
  return error as ComponentError;
}

export async function expectNotSupported(promise: Promise<unknown>, what: string): Promise<void> {
  await expectCode(promise, "ERR_NOT_SUPPORTED", what);
}

/** An ETagError; `kind` undefined accepts either kind. */
export async function expectETagError(
  promise: Promise<unknown>,
  kind: ETagErrorKind | undefined,
  what: string,
): Promise<ETagError> {
  const error = await rejection(promise, what);
  expect(
    error,
    `${what}: must reject with an ETagError, got ${describeError(error)}`,
  ).toBeInstanceOf(ETagError);
  if (kind) expect((error as ETagError).kind, `${what}: wrong ETagError kind`).toBe(kind);
  return error as ETagError;
}

/** A BulkError whose items are exactly `keys` (in any order), each an ETag mismatch when asked. */
export async function expectBulkError(
  promise: Promise<unknown>,
  keys: readonly string[],
  what: string,
  etagKind?: ETagErrorKind,
): Promise<BulkError> {
  const error = await rejection(promise, what);
  expect(
    error,
    `${what}: must reject with a BulkError, got ${describeError(error)}`,
  ).toBeInstanceOf(BulkError);
  const bulk = error as BulkError;
  expect(
    bulk.errors.map((e) => e.key).sort(),
    `${what}: the BulkError must hold exactly the failed keys`,
  ).toEqual([...keys].sort());
  if (etagKind) {
    for (const item of bulk.errors) {
      expect(item.etagError()?.kind, `${what}: item ${item.key} must wrap an ETagError`).toBe(
        etagKind,
      );
    }
  }
  return bulk;
}

/** What a read returned: the bytes alone, or a get response / bulk item with its kind. */
export type ReadValue =
  | Uint8Array
  | null
  | undefined
  | { data: Uint8Array | null; kind?: ValueKind | undefined };

/**
 * Compares a read with an expected value as Dapr does (§1.6): bytes must match exactly, anything
 * else is compared JSON-decoded. When the read reports a kind, it must be the kind the value was
 * set with (a JSON value comes back as JSON, bytes as bytes).
 */
export function expectValue(read: ReadValue, expected: unknown, what: string): void {
  const isResponse = read !== null && read !== undefined && !(read instanceof Uint8Array);
  const data = isResponse ? read.data : read;
  expect(data, `${what}: expected a value, got none`).toBeInstanceOf(Uint8Array);
  if (isResponse && read.kind !== undefined) {
    expect(read.kind, `${what}: the value must come back with the kind it was set with`).toBe(
      valueKind(expected),
    );
  }
  if (expected instanceof Uint8Array) {
    expect([...(data as Uint8Array)], `${what}: bytes must come back verbatim`).toEqual([
      ...expected,
    ]);
    return;
  }
  let decoded: unknown;
  try {
    decoded = decodeJson(data as Uint8Array);
  } catch {
    expect.fail(
      `${what}: stored data is not JSON: ${new TextDecoder().decode(data as Uint8Array)}`,
    );
  }
  expect(decoded, `${what}: value must read back equal (JSON-decoded)`).toEqual(expected);
}

export async function expectAbsent(store: StateStore, key: string, what: string): Promise<void> {
  const res = await store.get({ key });
  expect(res.data ?? null, `${what}: ${key} must be absent`).toBeNull();
  expect(res.etag ?? "", `${what}: a missing key has no etag`).toBe("");
}

export async function expectStored(
  store: StateStore,
  key: string,
  expected: unknown,
  what: string,
): Promise<void> {
  const res = await store.get({ key });
  expectValue(res, expected, `${what} (${key})`);
}

/** Polls `read` every `intervalMs` until it returns true or `timeoutMs` passes. */
export async function eventually(
  read: () => Promise<boolean>,
  timeoutMs: number,
  intervalMs = 200,
): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await read()) return true;
    if (Date.now() >= deadline) return false;
    await sleep(intervalMs);
  }
}

export function describeError(error: unknown): string {
  if (error instanceof ComponentError) return `${error.name}(${error.code}): ${error.message}`;
  if (error instanceof Error) return `${error.name}: ${error.message}`;
  return safeJson(error);
}

function safeJson(value: unknown): string {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}
