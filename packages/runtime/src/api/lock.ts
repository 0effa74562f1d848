import { MAX_LOCK_EXPIRY_SECONDS, type UnlockStatus } from "@outrig/core";
import type { PrefixedLockStore } from "../components/lock-keys.ts";
import type { ApiContext } from "./context.ts";
import { apiError, fromComponentError } from "./errors.ts";

/** A tryLock as a transport decoded it; fields are checked here, in daprd's order. */
export interface TryLockInput {
  store: string | undefined;
  resourceId: unknown;
  lockOwner: unknown;
  expiryInSeconds: unknown;
}

export interface UnlockInput {
  store: string | undefined;
  resourceId: unknown;
  lockOwner: unknown;
}

/** A lock request body: a JSON object (Go decodes nothing else into the request struct). */
export function lockRequestBody(body: unknown): object {
  if (body === null || typeof body !== "object" || Array.isArray(body)) {
    throw apiError("MALFORMED_BODY", { detail: "the request body must be a JSON object" });
  }
  return body;
}

/** A JSON string field, as Go decodes it into a string: absent or null is "", anything else is refused. */
function text(value: unknown, field: string): string {
  if (value === undefined || value === null) return "";
  if (typeof value === "string") return value;
  throw apiError("MALFORMED_BODY", { detail: `${field} must be a string, got ${typeof value}` });
}

/** expiryInSeconds as Go decodes it into an int32: absent or null is 0, a fraction or text refused. */
function int32(value: unknown, field: string): number {
  if (value === undefined || value === null) return 0;
  if (
    typeof value !== "number" ||
    !Number.isInteger(value) ||
    value > MAX_LOCK_EXPIRY_SECONDS ||
    value < -MAX_LOCK_EXPIRY_SECONDS - 1
  ) {
    throw apiError("MALFORMED_BODY", {
      detail: `${field} must be a whole number of seconds that fits in an int32, got ${JSON.stringify(value)}`,
    });
  }
  return value;
}

/** daprd's lock request checks: a store must exist, ids must not be empty. */
function requireLockStore(
  ctx: ApiContext,
  store: string | undefined,
  resourceId: string,
  lockOwner: string,
): PrefixedLockStore {
  const name = store ?? "";
  if (ctx.runtime.names("lock").length === 0)
    throw apiError("LOCK_STORE_NOT_CONFIGURED", { store: name });
  if (resourceId === "") throw apiError("LOCK_RESOURCE_ID_EMPTY", { store: name });
  if (lockOwner === "") throw apiError("LOCK_OWNER_EMPTY", { store: name });
  if (!ctx.runtime.has("lock", name)) throw apiError("LOCK_STORE_NOT_FOUND", { store: name });
  return ctx.runtime.lockStore(name);
}

/** Takes the lock if it is free; `success: false` when someone holds it. Never waits. */
export async function tryLock(ctx: ApiContext, input: TryLockInput): Promise<{ success: boolean }> {
  const resourceId = text(input.resourceId, "resourceId");
  const lockOwner = text(input.lockOwner, "lockOwner");
  const expiryInSeconds = int32(input.expiryInSeconds, "expiryInSeconds");
  // daprd checks the expiry before anything else, the store's existence included.
  if (expiryInSeconds <= 0)
    throw apiError("LOCK_EXPIRY_NOT_POSITIVE", { store: input.store ?? "" });
  const store = requireLockStore(ctx, input.store, resourceId, lockOwner);
  try {
    return await store.tryLock({ resourceId, lockOwner, expiryInSeconds });
  } catch (error) {
    throw fromComponentError("tryLock", error, { store: input.store });
  }
}

/** Releases the lock if `lockOwner` holds it; the status says what happened. */
export async function unlock(
  ctx: ApiContext,
  input: UnlockInput,
): Promise<{ status: UnlockStatus }> {
  const resourceId = text(input.resourceId, "resourceId");
  const lockOwner = text(input.lockOwner, "lockOwner");
  const store = requireLockStore(ctx, input.store, resourceId, lockOwner);
  try {
    return await store.unlock({ resourceId, lockOwner });
  } catch (error) {
    throw fromComponentError("unlock", error, { store: input.store });
  }
}
