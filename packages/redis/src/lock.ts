import {
  type ComponentContext,
  ComponentError,
  ConfigError,
  type LockStoreDefinition,
  type Metadata,
  type OptionsInput,
  type TryLockRequest,
  type TryLockResponse,
  UNLOCK_STATUS,
  type UnlockRequest,
  type UnlockResponse,
} from "@outrig/core";
import { BaseLockStore } from "@outrig/core/kit";
import type { Redis } from "ioredis";
import {
  checkConnectionOptions,
  clientOptions,
  connect,
  disconnect,
  pingClient,
  toComponentError,
} from "./connection.ts";
import { lockOptions } from "./options.ts";

const COMPONENT = "lock.redis";

/** A command that gets no answer in this long fails with ERR_TIMEOUT (without `readTimeout`). */
const DEFAULT_COMMAND_TIMEOUT_MS = 5000;

/**
 * Deletes the lock only when `ARGV[1]` owns it, atomically on the server: -1 when nobody holds it,
 * -2 when someone else does, else DEL's count. The same contract as Dapr's standalone lock, so
 * the statuses agree whichever sidecar released the lock.
 */
const UNLOCK_SCRIPT = `
local holder = redis.call("GET", KEYS[1])
if holder == false then return -1 end
if holder ~= ARGV[1] then return -2 end
return redis.call("DEL", KEYS[1])
`;

type ScriptedClient = Redis & {
  outrigUnlock(key: string, owner: string): Promise<number>;
};

/**
 * `lock.redis` as Dapr's standalone Redis lock: the lock is the key (the resource id, which the
 * sidecar prefixes `lock||<appid>||`) holding the owner as a plain string, taken with
 * `SET key owner NX PX expiry` and released by an owner-checked script. A daprd and an outrig
 * sidecar on the same Redis therefore exclude each other.
 */
export class RedisLockStore extends BaseLockStore {
  readonly componentType = COMPONENT;
  readonly #client: ScriptedClient;

  constructor(client: Redis) {
    super();
    client.defineCommand("outrigUnlock", { numberOfKeys: 1, lua: UNLOCK_SCRIPT });
    this.#client = client as ScriptedClient;
  }

  /** The underlying ioredis client. */
  get client(): Redis {
    return this.#client;
  }

  protected override async onPing(): Promise<void> {
    await pingClient(this.#client, COMPONENT);
  }

  protected override async onClose(): Promise<void> {
    await disconnect(this.#client);
  }

  protected async acquire(request: TryLockRequest): Promise<TryLockResponse> {
    try {
      const reply = await this.#client.set(
        request.resourceId,
        request.lockOwner,
        "PX",
        request.expiryInSeconds * 1000,
        "NX",
      );
      return { success: reply === "OK" };
    } catch (error) {
      throw toComponentError(error, COMPONENT);
    }
  }

  protected async release(request: UnlockRequest): Promise<UnlockResponse> {
    let result: number;
    try {
      result = Number(await this.#client.outrigUnlock(request.resourceId, request.lockOwner));
    } catch (error) {
      throw toComponentError(error, COMPONENT);
    }
    if (result === -1) return { status: UNLOCK_STATUS.LOCK_DOES_NOT_EXIST };
    if (result === -2) return { status: UNLOCK_STATUS.LOCK_BELONGS_TO_OTHERS };
    return { status: UNLOCK_STATUS.SUCCESS };
  }
}

/** `INFO replication`'s `connected_slaves:<n>`, or 0 when the server does not say. */
function connectedReplicas(info: string): number {
  const m = /^connected_slaves:(\d+)/m.exec(info);
  return m ? Number(m[1]) : 0;
}

/** The sidecar's path (the manifest's factory): Dapr metadata, unknown keys ignored. */
export async function openRedisLockStore(
  metadata: Metadata,
  context: ComponentContext = {},
): Promise<RedisLockStore> {
  const options = lockOptions.parse(metadata);
  const address = checkConnectionOptions(options, COMPONENT);
  const redisOptions = clientOptions(
    options,
    address,
    `outrig:${COMPONENT}:${context.name ?? "lock"}`,
  );
  redisOptions.commandTimeout ??= DEFAULT_COMMAND_TIMEOUT_MS;
  const client = await connect(redisOptions, COMPONENT);
  try {
    // As Dapr's standalone lock: a replicated server could lose a lock in a failover, so refuse it.
    const replicas = connectedReplicas(String(await client.info("replication")));
    if (replicas > 0) {
      throw new ConfigError(
        [
          {
            field: "redisHost",
            message: `the server has ${replicas} connected replica(s); a lock store needs a standalone Redis without replication`,
          },
        ],
        { component: COMPONENT },
      );
    }
  } catch (error) {
    await disconnect(client);
    throw error instanceof ComponentError ? error : toComponentError(error, COMPONENT);
  }
  return new RedisLockStore(client);
}

/** `createRedisLockStore`'s options: the YAML metadata fields, typed; unknown ones are refused. */
export type RedisLockStoreMetadata = OptionsInput<typeof lockOptions.fields>;

/** Library mode: typed options named as in the YAML. */
export async function createRedisLockStore(
  options: RedisLockStoreMetadata,
  context: ComponentContext = {},
): Promise<RedisLockStore> {
  return openRedisLockStore(lockOptions.fromOptions(options), context);
}

export const lockDefinition: LockStoreDefinition = {
  type: COMPONENT,
  kind: "lock",
  version: "v1",
  status: "alpha",
  description:
    "Dapr's standalone Redis lock: SET NX PX with the owner as the value, owner-checked Lua release",
  capabilities: [],
  options: lockOptions,
  create: openRedisLockStore,
};
