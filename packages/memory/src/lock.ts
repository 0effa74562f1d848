import {
  type ComponentContext,
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
import { lockOptions } from "./lock-options.ts";

const COMPONENT_TYPE = "lock.in-memory";

/** `createMemoryLockStore`'s options: the YAML metadata fields, typed (see `lockOptions`). */
export type MemoryLockStoreMetadata = OptionsInput<typeof lockOptions.fields>;

export interface MemoryLockStoreOptions {
  /** How often expired locks are purged, in ms (YAML: `cleanupInterval`); 0 disables it. Default 10 000. */
  cleanupInterval?: number;
}

interface HeldLock {
  readonly owner: string;
  /** Epoch ms. */
  readonly expiresAt: number;
}

/**
 * Locks held in this process. Check and take happen in one synchronous step, so concurrent
 * contenders in the event loop can never both win; a lock lives until unlocked, expired, or the
 * store is closed (it does not outlive the process).
 */
export class MemoryLockStore extends BaseLockStore {
  readonly componentType = COMPONENT_TYPE;
  readonly #locks = new Map<string, HeldLock>();
  readonly #timer: NodeJS.Timeout | undefined;

  constructor(options: MemoryLockStoreOptions = {}) {
    super();
    const interval = options.cleanupInterval ?? 10_000;
    if (interval > 0) {
      this.#timer = setInterval(() => this.#purgeExpired(), interval);
      // A forgotten store must not keep the process alive.
      this.#timer.unref();
    }
  }

  protected override async onClose(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    this.#locks.clear();
  }

  protected async acquire(request: TryLockRequest): Promise<TryLockResponse> {
    const now = Date.now();
    if (this.#live(request.resourceId, now)) return { success: false };
    this.#locks.set(request.resourceId, {
      owner: request.lockOwner,
      expiresAt: now + request.expiryInSeconds * 1000,
    });
    return { success: true };
  }

  protected async release(request: UnlockRequest): Promise<UnlockResponse> {
    const held = this.#live(request.resourceId, Date.now());
    if (!held) return { status: UNLOCK_STATUS.LOCK_DOES_NOT_EXIST };
    if (held.owner !== request.lockOwner) return { status: UNLOCK_STATUS.LOCK_BELONGS_TO_OTHERS };
    this.#locks.delete(request.resourceId);
    return { status: UNLOCK_STATUS.SUCCESS };
  }

  /** The unexpired lock on `resourceId`, if any. */
  #live(resourceId: string, now: number): HeldLock | undefined {
    const held = this.#locks.get(resourceId);
    if (held && held.expiresAt <= now) {
      this.#locks.delete(resourceId);
      return undefined;
    }
    return held;
  }

  #purgeExpired(): void {
    const now = Date.now();
    for (const [id, held] of this.#locks) if (held.expiresAt <= now) this.#locks.delete(id);
  }
}

/** Library mode: typed options, unknown keys refused by name. */
export async function createMemoryLockStore(
  options: MemoryLockStoreMetadata = {},
  context?: ComponentContext,
): Promise<MemoryLockStore> {
  return openMemoryLockStore(lockOptions.fromOptions(options), context);
}

/** The sidecar's path: Dapr metadata, unknown keys ignored (daprd passes built-ins). */
export async function openMemoryLockStore(
  metadata: Metadata = {},
  _context?: ComponentContext,
): Promise<MemoryLockStore> {
  const options = lockOptions.parse(metadata);
  return new MemoryLockStore({ cleanupInterval: options.cleanupInterval });
}

export const lockDefinition: LockStoreDefinition = {
  type: COMPONENT_TYPE,
  kind: "lock",
  version: "v1",
  status: "alpha",
  description:
    "Distributed-lock semantics inside one process (Dapr has no in-memory lock store): for development and tests.",
  capabilities: [],
  options: lockOptions,
  create: openMemoryLockStore,
};
