import {
  type BindingDefinition,
  type ComponentContext,
  defineOptions,
  getMetadata,
  type InvokeRequest,
  type InvokeResponse,
  type Metadata,
  type OptionsInput,
  parseTtlInSeconds,
  toBytes,
} from "@outrig/core";
import { BaseOutputBinding } from "@outrig/core/kit";
import type { Redis } from "ioredis";
import {
  checkConnectionOptions,
  clientOptions,
  connect,
  disconnect,
  pingClient,
  toComponentError,
} from "./connection.ts";
import { stateOptions } from "./options.ts";

const COMPONENT = "bindings.redis";

// The binding takes Dapr's common Redis connection metadata: the state store's fields without
// the state-only ones.
const {
  ttlInSeconds: _ttl,
  queryIndexes: _query,
  actorStateStore: _actor,
  ...connectionFields
} = stateOptions.fields;

export const redisBindingOptions = defineOptions(COMPONENT, connectionFields);

/** Dapr's operations for `bindings.redis`. */
export const REDIS_BINDING_OPERATIONS = ["create", "get", "delete", "increment"] as const;

/**
 * `bindings.redis`: an output binding over plain Redis strings. Every operation needs the `key`
 * request metadata:
 * - `create` SETs the data as is (bytes), with `ttlInSeconds` as EX (`-1` or absent: no TTL);
 * - `get` returns the stored bytes, or `null` data for a missing key;
 * - `delete` DELs the key;
 * - `increment` INCRs it and returns the new value as data (JSON number); with `ttlInSeconds` the
 *   TTL is set in the same MULTI, without it an existing TTL is kept.
 */
export class RedisBinding extends BaseOutputBinding {
  readonly componentType = COMPONENT;
  readonly #client: Redis;

  constructor(client: Redis) {
    super();
    this.#client = client;
  }

  operations(): readonly string[] {
    return REDIS_BINDING_OPERATIONS;
  }

  protected override async onPing(): Promise<void> {
    await pingClient(this.#client, COMPONENT);
  }

  protected async invokeOperation(
    operation: string,
    request: InvokeRequest,
  ): Promise<InvokeResponse> {
    const key = getMetadata(request.metadata, "key");
    if (!key) {
      throw this.errors.invalid(`${operation} needs the "key" metadata`);
    }
    let ttl: number | undefined;
    try {
      ttl = parseTtlInSeconds(request.metadata);
    } catch (error) {
      throw this.errors.invalid((error as Error).message, { cause: error });
    }
    try {
      switch (operation) {
        case "create": {
          const value = Buffer.from(request.data ?? new Uint8Array());
          if (ttl !== undefined && ttl > 0) await this.#client.set(key, value, "EX", ttl);
          else await this.#client.set(key, value);
          return {};
        }
        case "get": {
          const value = await this.#client.getBuffer(key);
          return { data: value === null ? null : new Uint8Array(value) };
        }
        case "delete":
          await this.#client.del(key);
          return {};
        default: {
          const multi = this.#client.multi().incr(key);
          if (ttl !== undefined && ttl > 0) multi.expire(key, ttl);
          else if (ttl === -1) multi.persist(key);
          const results = await multi.exec();
          const [error, value] = results?.[0] ?? [new Error("the transaction was aborted")];
          if (error) throw error;
          return { data: toBytes(String(value)), contentType: "application/json" };
        }
      }
    } catch (error) {
      throw toComponentError(error, COMPONENT);
    }
  }

  protected override async onClose(): Promise<void> {
    await disconnect(this.#client);
  }
}

/** `createRedisBinding`'s options: the YAML metadata fields, typed; an unknown one is a ConfigError. */
export type RedisBindingMetadata = OptionsInput<typeof redisBindingOptions.fields>;

/** Library mode: createRedisBinding from typed options named as in the YAML. */
export async function createRedisBinding(
  options: RedisBindingMetadata,
  context: ComponentContext = {},
): Promise<RedisBinding> {
  return openRedisBinding(redisBindingOptions.fromOptions(options), context);
}

/** Creates a `bindings.redis` output binding from Dapr metadata (`redisHost`, ...). */
export async function openRedisBinding(
  metadata: Metadata,
  context: ComponentContext = {},
): Promise<RedisBinding> {
  const options = redisBindingOptions.parse(metadata);
  const address = checkConnectionOptions(options, COMPONENT);
  const client = await connect(
    clientOptions(options, address, `outrig:${COMPONENT}:${context.name ?? "binding"}`),
    COMPONENT,
  );
  return new RedisBinding(client);
}

export const redisBindingDefinition: BindingDefinition = {
  type: COMPONENT,
  kind: "bindings",
  version: "v1",
  status: "beta",
  description: "Redis strings as an output binding: create (with TTL), get, delete, increment",
  capabilities: REDIS_BINDING_OPERATIONS,
  directions: ["output"],
  options: redisBindingOptions,
  create: openRedisBinding,
};
