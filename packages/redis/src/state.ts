import {
  type BulkGetItem,
  type BulkItemError,
  type BulkOptions,
  type ComponentContext,
  type ComponentError,
  type DeleteRequest,
  encodeValue,
  type GetRequest,
  type GetResponse,
  hasEtag,
  isDirectChild,
  type KeysLikeRequest,
  type KeysLikeResponse,
  likePatternToRegExp,
  type Metadata,
  type OptionsInput,
  parseTtlInSeconds,
  type SetRequest,
  type StateCapability,
  type StateStoreDefinition,
  type TransactionRequest,
  toBulkGetItem,
  ttlExpireTimeMetadata,
} from "@outrig/core";
import { BaseStateStore, componentErrors } from "@outrig/core/kit";
import type { ChainableCommander, Redis } from "ioredis";
import {
  checkConnectionOptions,
  clientOptions,
  connect,
  disconnect,
  pingClient,
  toComponentError,
} from "./connection.ts";
import { decodeScanToken, encodeScanToken, escapeGlob, likeToGlob } from "./glob.ts";
import { type RedisStateOptions, stateOptions } from "./options.ts";
import {
  DELETE_MANY_SCRIPT,
  GET_MANY_SCRIPT,
  SET_ARGS_PER_ITEM,
  SET_MANY_SCRIPT,
  TRANSACT_ARGS_PER_OP,
  TRANSACT_SCRIPT,
} from "./scripts.ts";

const COMPONENT = "state.redis";
const errors = componentErrors(COMPONENT);
/** Keys SCAN examines per call; larger batches mean fewer round trips per page. */
const SCAN_COUNT = 1000;

const CAPABILITIES: readonly StateCapability[] = [
  "ETAG",
  "TRANSACTIONAL",
  "TTL",
  "DELETE_WITH_PREFIX",
  "KEYS_LIKE",
];

/** Keys per script call: bounds how long one call holds the server, which runs scripts serially. */
const KEYS_PER_SCRIPT = 200;

type RawItem = [data: Buffer, version: Buffer | null, pttl: number] | [error: Buffer] | null;

/** The scripts registered with `defineCommand`, as they appear on the client and on pipelines. */
interface ScriptCommands<R> {
  outrigGetManyBuffer(numKeys: number, ...keys: string[]): R;
  outrigSetMany(numKeys: number, ...args: (string | Buffer)[]): R;
  outrigDeleteMany(numKeys: number, ...args: string[]): R;
  outrigTransact(numKeys: number, ...args: (string | Buffer)[]): R;
}
type ScriptedClient = Redis & ScriptCommands<Promise<unknown>>;
type ScriptedPipeline = ChainableCommander & ScriptCommands<ChainableCommander>;

/** A write, validated and encoded before anything is sent. */
interface PreparedSet {
  key: string;
  etag: string;
  firstWrite: string;
  data: Buffer;
  ttl: string;
}

/** A delete, validated before anything is sent. */
interface PreparedDelete {
  key: string;
  etag: string;
}

/** The outcome of one item of a bulk operation: a value or the error for that item alone. */
type Outcome<T> = { ok: true; value: T } | { ok: false; error: ComponentError };

/**
 * `state.redis`: items are hashes `{data, version}` (Dapr's layout) changed only through Lua
 * scripts, so ETag checks, first-write and transactions are atomic on the server. Single and
 * bulk operations share one path: items go to a script in chunks of {@link KEYS_PER_SCRIPT} keys,
 * and the chunks are pipelined, so a bulk call is one round trip however many keys it has.
 */
export class RedisStateStore extends BaseStateStore {
  readonly componentType = COMPONENT;
  readonly capabilities: ReadonlySet<StateCapability>;
  readonly options: RedisStateOptions;
  readonly #client: ScriptedClient;

  constructor(client: Redis, options: RedisStateOptions) {
    super();
    this.options = options;
    this.capabilities = new Set<StateCapability>(
      options.actorStateStore ? [...CAPABILITIES, "ACTOR"] : CAPABILITIES,
    );
    client.defineCommand("outrigGetMany", { lua: GET_MANY_SCRIPT, readOnly: true });
    client.defineCommand("outrigSetMany", { lua: SET_MANY_SCRIPT });
    client.defineCommand("outrigDeleteMany", { lua: DELETE_MANY_SCRIPT });
    client.defineCommand("outrigTransact", { lua: TRANSACT_SCRIPT });
    this.#client = client as ScriptedClient;
  }

  /** The underlying ioredis client, for callers that need Redis beyond the state contract. */
  get client(): Redis {
    return this.#client;
  }

  protected override async onPing(): Promise<void> {
    await pingClient(this.#client, COMPONENT);
  }

  protected override async onClose(): Promise<void> {
    await disconnect(this.#client);
  }

  protected async getItem(request: GetRequest): Promise<GetResponse> {
    const [outcome] = await this.#getMany([request.key]);
    if (!outcome?.ok) throw outcome?.error;
    return outcome.value;
  }

  protected async setItem(request: SetRequest): Promise<void> {
    const [outcome] = await this.#setMany([this.#prepareSet(request)]);
    if (!outcome?.ok) throw outcome?.error;
  }

  protected async deleteItem(request: DeleteRequest): Promise<void> {
    const [outcome] = await this.#deleteMany([{ key: request.key, etag: prepareDelete(request) }]);
    if (!outcome?.ok) throw outcome?.error;
  }

  protected override async getItems(
    requests: GetRequest[],
    _options?: BulkOptions,
  ): Promise<BulkGetItem[]> {
    const outcomes = await this.#getMany(requests.map((r) => r.key));
    return requests.map((r, i) => {
      const outcome = outcomes[i] as Outcome<GetResponse>;
      if (!outcome.ok) return { key: r.key, data: null, error: outcome.error.message };
      return toBulkGetItem(r.key, outcome.value);
    });
  }

  protected override async setItems(requests: SetRequest[], _options?: BulkOptions): Promise<void> {
    await this.#bulkWrite(
      requests,
      (request) => this.#prepareSet(request),
      (prepared) => this.#setMany(prepared),
    );
  }

  protected override async deleteItems(
    requests: DeleteRequest[],
    _options?: BulkOptions,
  ): Promise<void> {
    await this.#bulkWrite(
      requests,
      (request) => ({ key: request.key, etag: prepareDelete(request) }),
      (prepared) => this.#deleteMany(prepared),
    );
  }

  /** Items whose ETag is malformed fail alone; the rest go in one pipelined call. */
  async #bulkWrite<R extends { key: string }, P extends { key: string }>(
    requests: R[],
    prepare: (request: R) => P,
    send: (prepared: P[]) => Promise<Outcome<string>[]>,
  ): Promise<void> {
    const failures: BulkItemError[] = [];
    const prepared: P[] = [];
    for (const request of requests) {
      try {
        prepared.push(prepare(request));
      } catch (error) {
        failures.push(errors.bulkItem(request.key, error));
      }
    }
    const outcomes = await send(prepared);
    outcomes.forEach((outcome, i) => {
      if (!outcome.ok) failures.push(errors.bulkItem((prepared[i] as P).key, outcome.error));
    });
    if (failures.length > 0) throw errors.bulk(failures);
  }

  /** One Lua script: every condition is checked before anything is written, then applied in order. */
  protected override async transactItems(request: TransactionRequest): Promise<void> {
    if (request.operations.length === 0) return;
    const keys: string[] = [];
    const args: (string | Buffer)[] = [];
    for (const op of request.operations) {
      if (op.operation === "upsert") {
        const item = this.#prepareSet(op.request);
        keys.push(item.key);
        args.push("set", item.etag, item.firstWrite, item.data, item.ttl);
      } else {
        keys.push(op.request.key);
        args.push("del", prepareDelete(op.request), "0", "", "0");
      }
    }
    if (args.length !== keys.length * TRANSACT_ARGS_PER_OP) {
      throw errors.error("ERR_INTERNAL", "transaction arguments are misaligned");
    }
    try {
      await this.#client.outrigTransact(keys.length, ...keys, ...args);
    } catch (error) {
      const message = error instanceof Error ? error.message : "";
      const m = /^ETAG_MISMATCH (\d+)/.exec(message);
      if (m) {
        const index = Number(m[1]) - 1;
        throw errors.etag(
          "mismatch",
          `transaction aborted: operation ${index + 1} (key ${JSON.stringify(keys[index])}) failed its etag or first-write check`,
          { cause: error },
        );
      }
      throw toComponentError(error, COMPONENT);
    }
  }

  protected override async deleteItemsWithPrefix(prefix: string): Promise<{ count: number }> {
    const match = `${escapeGlob(prefix)}*`;
    let cursor = "0";
    let count = 0;
    try {
      do {
        const [next, batch] = await this.#client.scan(
          cursor,
          "MATCH",
          match,
          "COUNT",
          SCAN_COUNT,
          "TYPE",
          "hash",
        );
        cursor = next;
        const children = batch.filter((key) => isDirectChild(key, prefix));
        if (children.length > 0) count += await this.#client.del(...children);
      } while (cursor !== "0");
    } catch (error) {
      throw toComponentError(error, COMPONENT);
    }
    return { count };
  }

  /**
   * SCAN with a MATCH glob translated from the LIKE pattern, each batch filtered by the exact
   * pattern and sorted. As with SCAN itself, a key present for the whole paging is returned; a
   * key written in between may or may not be.
   */
  protected override async keysMatching(request: KeysLikeRequest): Promise<KeysLikeResponse> {
    const exact = likePatternToRegExp(request.pattern);
    const match = likeToGlob(request.pattern);
    const limit =
      request.pageSize && request.pageSize > 0 ? request.pageSize : Number.POSITIVE_INFINITY;
    const start = request.continuationToken
      ? decodeScanToken(request.continuationToken)
      : { cursor: "0" };
    let cursor = start.cursor;
    let after = start.after;
    const keys: string[] = [];
    try {
      do {
        const [next, batch] = await this.#client.scan(
          cursor,
          "MATCH",
          match,
          "COUNT",
          SCAN_COUNT,
          "TYPE",
          "hash",
        );
        let matched = [...new Set(batch.filter((key) => exact.test(key)))].sort();
        if (after !== undefined) {
          const last = after;
          matched = matched.filter((key) => key > last);
          after = undefined;
        }
        const room = limit - keys.length;
        if (matched.length > room) {
          keys.push(...matched.slice(0, room));
          return {
            keys,
            continuationToken: encodeScanToken({ cursor, after: keys.at(-1) as string }),
          };
        }
        keys.push(...matched);
        cursor = next;
      } while (cursor !== "0" && keys.length < limit);
    } catch (error) {
      throw toComponentError(error, COMPONENT);
    }
    return cursor === "0" ? { keys } : { keys, continuationToken: encodeScanToken({ cursor }) };
  }

  #prepareSet(request: SetRequest): PreparedSet {
    const etag = hasEtag(request.etag) ? checkEtag(request.etag) : "";
    const ttl = parseTtlInSeconds(request.metadata) ?? this.options.ttlInSeconds ?? 0;
    return {
      key: request.key,
      etag,
      firstWrite: request.options?.concurrency === "first-write" ? "1" : "0",
      data: toBuffer(encodeValue(request.value)),
      ttl: String(ttl),
    };
  }

  async #getMany(keys: string[]): Promise<Outcome<GetResponse>[]> {
    const replies = await this.#runChunks(keys, (p, n, args) =>
      p.outrigGetManyBuffer(n, ...(args as string[])),
    );
    return replies.map((raw) => {
      const item = raw as RawItem;
      if (item && item.length === 1) {
        return {
          ok: false,
          error: toComponentError(new Error(item[0].toString("utf8")), COMPONENT),
        };
      }
      return { ok: true, value: toGetResponse(item) };
    });
  }

  async #setMany(items: PreparedSet[]): Promise<Outcome<string>[]> {
    const replies = await this.#runChunks(
      items.map((item) => item.key),
      (p, n, args) => p.outrigSetMany(n, ...args),
      (i) => {
        const item = items[i] as PreparedSet;
        const args = [item.etag, item.firstWrite, item.data, item.ttl];
        if (args.length !== SET_ARGS_PER_ITEM)
          throw new Error("set script arguments are misaligned");
        return args;
      },
    );
    return replies.map((reply) => writeOutcome(String(reply)));
  }

  async #deleteMany(items: PreparedDelete[]): Promise<Outcome<string>[]> {
    const replies = await this.#runChunks(
      items.map((item) => item.key),
      (p, n, args) => p.outrigDeleteMany(n, ...(args as string[])),
      (i) => [(items[i] as PreparedDelete).etag],
    );
    return replies.map((reply) => writeOutcome(String(reply)));
  }

  /**
   * Sends `keys` to a many-key script in chunks, all chunks in one pipeline, and returns the
   * per-key replies in order. A failure of the connection (down, or too slow) rejects the whole
   * call with ERR_UNAVAILABLE/ERR_TIMEOUT: that is no per-item failure, and which items reached
   * the server is unknown.
   */
  async #runChunks(
    keys: string[],
    call: (target: ScriptCommands<unknown>, numKeys: number, args: (string | Buffer)[]) => unknown,
    argsOf?: (index: number) => (string | Buffer)[],
  ): Promise<unknown[]> {
    if (keys.length === 0) return [];
    const chunk = (start: number): [number, (string | Buffer)[]] => {
      const end = Math.min(start + KEYS_PER_SCRIPT, keys.length);
      const args: (string | Buffer)[] = keys.slice(start, end);
      if (argsOf) for (let i = start; i < end; i++) args.push(...argsOf(i));
      return [end - start, args];
    };
    let results: [Error | null, unknown][] | null;
    try {
      if (keys.length <= KEYS_PER_SCRIPT) {
        // One chunk: a plain command, skipping the pipeline's bookkeeping.
        results = [[null, await call(this.#client, ...chunk(0))]];
      } else {
        const pipeline = this.#client.pipeline() as ScriptedPipeline;
        for (let start = 0; start < keys.length; start += KEYS_PER_SCRIPT)
          call(pipeline, ...chunk(start));
        results = await pipeline.exec();
      }
    } catch (error) {
      throw toComponentError(error, COMPONENT);
    }
    if (!results) throw errors.error("ERR_INTERNAL", "pipeline was discarded");
    const replies: unknown[] = [];
    for (const [error, reply] of results) {
      if (error) throw toComponentError(error, COMPONENT);
      replies.push(...(reply as unknown[]));
    }
    if (replies.length !== keys.length) {
      throw errors.error("ERR_INTERNAL", `expected ${keys.length} replies, got ${replies.length}`);
    }
    return replies;
  }
}

/** ioredis sends only Buffers as binary; any other Uint8Array would be stringified. */
function toBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes)
    ? bytes
    : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** Dapr's Redis ETags are the integer version; anything else cannot match and is invalid. */
function checkEtag(etag: string): string {
  if (!/^-?\d{1,19}$/.test(etag)) {
    throw errors.etag(
      "invalid",
      `invalid etag ${JSON.stringify(etag)}: expected an integer version`,
    );
  }
  return etag;
}

function prepareDelete(request: DeleteRequest): string {
  return hasEtag(request.etag) ? checkEtag(request.etag) : "";
}

/** Reads a per-key reply of the set and delete scripts. */
function writeOutcome(reply: string): Outcome<string> {
  if (reply.startsWith("OK")) return { ok: true, value: reply.slice(3) };
  if (reply.startsWith("ETAG_MISMATCH")) {
    const message = reply.endsWith("first-write")
      ? "first-write: the key already exists"
      : "possible etag mismatch: the item was changed or does not exist";
    return { ok: false, error: errors.etag("mismatch", message) };
  }
  return { ok: false, error: toComponentError(new Error(reply.replace(/^ERROR /, "")), COMPONENT) };
}

function toGetResponse(raw: RawItem): GetResponse {
  if (!raw) return { data: null };
  const [data, version, pttl] = raw as [Buffer, Buffer | null, number];
  const metadata: Metadata | undefined =
    pttl > 0 ? ttlExpireTimeMetadata(Date.now() + pttl) : undefined;
  return {
    data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength),
    ...(version ? { etag: version.toString("utf8") } : {}),
    ...(metadata ? { metadata } : {}),
  };
}

/**
 * Creates `state.redis` from Dapr metadata and connects; fails with ERR_CONFIG_INVALID for bad
 * metadata and ERR_UNAVAILABLE when the server cannot be reached within `dialTimeout`.
 */
export async function createRedisStateStore(
  options: RedisStateStoreMetadata,
  context: ComponentContext = {},
): Promise<RedisStateStore> {
  return openRedisStateStore(stateOptions.fromOptions(options), context);
}

/** `createRedisStateStore`'s options: the YAML metadata fields, typed; unknown ones are refused. */
export type RedisStateStoreMetadata = OptionsInput<typeof stateOptions.fields>;

/** The sidecar's path (the manifest's factory): Dapr metadata, unknown keys ignored. */
export async function openRedisStateStore(
  metadata: Metadata,
  context: ComponentContext = {},
): Promise<RedisStateStore> {
  const options = stateOptions.parse(metadata);
  const address = checkConnectionOptions(options, COMPONENT);
  if (options.queryIndexes) {
    throw errors.config([
      {
        field: "queryIndexes",
        message:
          "the query API needs RedisJSON and RediSearch, which this component does not support",
      },
    ]);
  }
  const client = await connect(
    clientOptions(options, address, `outrig:${COMPONENT}:${context.name ?? "state"}`),
    COMPONENT,
  );
  return new RedisStateStore(client, options);
}

export const stateDefinition: StateStoreDefinition = {
  type: COMPONENT,
  kind: "state",
  version: "v1",
  status: "beta",
  description:
    "Redis state store: items as hashes changed by Lua scripts, pipelined bulk operations",
  capabilities: [...CAPABILITIES, "ACTOR"],
  options: stateOptions,
  create: openRedisStateStore,
};
