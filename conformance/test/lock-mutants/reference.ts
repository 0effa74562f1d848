import {
  ComponentError,
  type LockStore,
  type TryLockRequest,
  type TryLockResponse,
  UNLOCK_STATUS,
  type UnlockRequest,
  type UnlockResponse,
  validateTryLock,
  validateUnlock,
} from "@outrig/core";

/** The "server" every client of one backend shares: resource id to its holder. */
export type LockServer = Map<string, { owner: string; expiresAt: number }>;

/** What a mutant may change; the reference store is correct with none of them. */
export interface Faults {
  /** Yield between the "is it free?" check and taking the lock. */
  racy?: boolean;
  neverExpires?: boolean;
  /** Expiry counted in tenths of what was asked. */
  expiresEarly?: boolean;
  anyoneUnlocks?: boolean;
  reentrant?: boolean;
  /** Each client its own table, as if locks lived in the client. */
  perClient?: boolean;
  skipValidation?: boolean;
  /** An unlock of a lock nobody holds answers SUCCESS. */
  missingIsSuccess?: boolean;
  usableAfterClose?: boolean;
}

/** A correct lock store over a shared in-process "server", with switchable bugs. */
export class ReferenceLockStore implements LockStore {
  #closed = false;
  readonly #server: LockServer;
  private readonly faults: Faults;

  constructor(server: LockServer, faults: Faults = {}) {
    this.faults = faults;
    this.#server = faults.perClient ? new Map() : server;
  }

  async ping(): Promise<void> {
    this.#open();
  }

  async close(): Promise<void> {
    this.#closed = true;
  }

  async tryLock(request: TryLockRequest): Promise<TryLockResponse> {
    this.#open();
    if (!this.faults.skipValidation) validateTryLock(request);
    const held = this.#live(request.resourceId);
    if (held && !(this.faults.reentrant && held.owner === request.lockOwner)) {
      return { success: false };
    }
    if (this.faults.racy) await new Promise((resolve) => setImmediate(resolve));
    const seconds = this.faults.expiresEarly
      ? request.expiryInSeconds / 10
      : request.expiryInSeconds;
    this.#server.set(request.resourceId, {
      owner: request.lockOwner,
      expiresAt: this.faults.neverExpires ? Number.POSITIVE_INFINITY : Date.now() + seconds * 1000,
    });
    return { success: true };
  }

  async unlock(request: UnlockRequest): Promise<UnlockResponse> {
    this.#open();
    if (!this.faults.skipValidation) validateUnlock(request);
    const held = this.#live(request.resourceId);
    if (!held) {
      return {
        status: this.faults.missingIsSuccess
          ? UNLOCK_STATUS.SUCCESS
          : UNLOCK_STATUS.LOCK_DOES_NOT_EXIST,
      };
    }
    if (held.owner !== request.lockOwner && !this.faults.anyoneUnlocks) {
      return { status: UNLOCK_STATUS.LOCK_BELONGS_TO_OTHERS };
    }
    this.#server.delete(request.resourceId);
    return { status: UNLOCK_STATUS.SUCCESS };
  }

  #live(resourceId: string) {
    const held = this.#server.get(resourceId);
    if (held && held.expiresAt <= Date.now()) {
      this.#server.delete(resourceId);
      return undefined;
    }
    return held;
  }

  #open(): void {
    if (this.#closed && !this.faults.usableAfterClose) {
      throw new ComponentError("ERR_CLOSED", "the lock store is closed");
    }
  }
}

/** Each mutant's bug and the cases (LOCK_CASES ids) that must catch it. */
export const LOCK_MUTANTS: Record<string, { faults: Faults; mustFail: string[] }> = {
  correct: { faults: {}, mustFail: [] },
  racy: { faults: { racy: true }, mustFail: ["exclusion"] },
  "never-expires": { faults: { neverExpires: true }, mustFail: ["expiry", "durability"] },
  "expires-early": { faults: { expiresEarly: true }, mustFail: ["expiry"] },
  "anyone-unlocks": { faults: { anyoneUnlocks: true }, mustFail: ["ownership", "exclusion"] },
  reentrant: { faults: { reentrant: true }, mustFail: ["basics"] },
  "locks-live-in-the-client": {
    faults: { perClient: true },
    mustFail: ["durability", "exclusion"],
  },
  "accepts-bad-input": { faults: { skipValidation: true }, mustFail: ["badInput"] },
  "missing-is-success": { faults: { missingIsSuccess: true }, mustFail: ["basics", "expiry"] },
  "usable-after-close": { faults: { usableAfterClose: true }, mustFail: ["close"] },
};
