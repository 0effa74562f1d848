import type { Component } from "./component.ts";
import { ComponentError } from "./errors.ts";

/**
 * Dapr's unlock outcomes (`UnlockResponse.Status`), numeric as on the wire. A store reports the
 * first three; INTERNAL_ERROR is what the API answers when the store itself failed.
 */
export const UNLOCK_STATUS = {
  SUCCESS: 0,
  LOCK_DOES_NOT_EXIST: 1,
  LOCK_BELONGS_TO_OTHERS: 2,
  INTERNAL_ERROR: 3,
} as const;

export type UnlockStatus = (typeof UNLOCK_STATUS)[keyof typeof UNLOCK_STATUS];

/** Longest lock Dapr's API can express: `expiryInSeconds` is an int32. */
export const MAX_LOCK_EXPIRY_SECONDS = 2_147_483_647;

export interface TryLockRequest {
  /** What is locked; any non-empty string. */
  resourceId: string;
  /** Who holds it; only this owner may unlock it. */
  lockOwner: string;
  /** How long the lock holds unless unlocked first: a whole number of seconds, at least 1. */
  expiryInSeconds: number;
}

export interface TryLockResponse {
  /** False when someone (this owner included: locks are not re-entrant) holds it already. */
  success: boolean;
}

export interface UnlockRequest {
  resourceId: string;
  lockOwner: string;
}

export interface UnlockResponse {
  status: UnlockStatus;
}

/**
 * Dapr's distributed lock store (`lock.Store`): a named, owned, expiring mutual-exclusion lock.
 * `tryLock` never waits for the lock: it takes it or answers `success: false` at once.
 * Invalid requests reject with ERR_INVALID_REQUEST naming the field; after `close`, ERR_CLOSED.
 */
export interface LockStore extends Component {
  tryLock(request: TryLockRequest): Promise<TryLockResponse>;
  unlock(request: UnlockRequest): Promise<UnlockResponse>;
}

function requireText(value: unknown, field: string, component?: string): void {
  if (typeof value !== "string" || value === "") {
    throw new ComponentError("ERR_INVALID_REQUEST", `${field} must be a non-empty string`, {
      component,
      details: { field },
    });
  }
}

/** Throws ERR_INVALID_REQUEST naming the field when a tryLock request is not valid. */
export function validateTryLock(request: TryLockRequest, component?: string): void {
  requireText(request?.resourceId, "resourceId", component);
  requireText(request.lockOwner, "lockOwner", component);
  const expiry = request.expiryInSeconds;
  if (
    typeof expiry !== "number" ||
    !Number.isInteger(expiry) ||
    expiry <= 0 ||
    expiry > MAX_LOCK_EXPIRY_SECONDS
  ) {
    throw new ComponentError(
      "ERR_INVALID_REQUEST",
      `expiryInSeconds must be a whole number of seconds from 1 to ${MAX_LOCK_EXPIRY_SECONDS}, got ${String(expiry)}`,
      { component, details: { field: "expiryInSeconds" } },
    );
  }
}

/** Throws ERR_INVALID_REQUEST naming the field when an unlock request is not valid. */
export function validateUnlock(request: UnlockRequest, component?: string): void {
  requireText(request?.resourceId, "resourceId", component);
  requireText(request.lockOwner, "lockOwner", component);
}
