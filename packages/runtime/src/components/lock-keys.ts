import {
  ComponentError,
  ConfigError,
  getMetadata,
  type LockStore,
  type Metadata,
  type TryLockRequest,
  type TryLockResponse,
  type UnlockRequest,
  type UnlockResponse,
} from "@outrig/core";

const SEPARATOR = "||";

/**
 * The prefix daprd puts before every resource id of lock store `storeName` (its `keyPrefix`
 * metadata): `lock||<appId>||` by default, `lock||<storeName>||` for `name`, `lock||` for `none`,
 * `lock||<value>||` for any other value. Apps sharing a prefix share locks.
 */
export function lockKeyPrefixFor(
  componentMetadata: Metadata,
  storeName: string,
  appId: string,
): string {
  const strategy = (getMetadata(componentMetadata, "keyPrefix") ?? "appid").toLowerCase();
  if (strategy.includes(SEPARATOR)) {
    throw new ConfigError(
      [{ field: "keyPrefix", message: `'${strategy}' can't contain '${SEPARATOR}'` }],
      { component: storeName },
    );
  }
  switch (strategy) {
    case "":
    case "appid":
      return appId ? `lock${SEPARATOR}${appId}${SEPARATOR}` : `lock${SEPARATOR}`;
    case "name":
      return `lock${SEPARATOR}${storeName}${SEPARATOR}`;
    case "none":
      return `lock${SEPARATOR}`;
    default:
      return `lock${SEPARATOR}${strategy}${SEPARATOR}`;
  }
}

/**
 * A lock store seen through an app's key prefix, as daprd modifies resource ids: callers use plain
 * ids, the component sees prefixed ones. The HTTP and gRPC APIs and library mode share this view,
 * so they lock the same records.
 */
export class PrefixedLockStore implements LockStore {
  readonly inner: LockStore;
  readonly prefix: string;

  constructor(inner: LockStore, prefix: string) {
    this.inner = inner;
    this.prefix = prefix;
  }

  ping(): Promise<void> {
    return this.inner.ping();
  }

  close(): Promise<void> {
    return this.inner.close();
  }

  tryLock(request: TryLockRequest): Promise<TryLockResponse> {
    return this.inner.tryLock({ ...request, resourceId: this.#key(request.resourceId) });
  }

  unlock(request: UnlockRequest): Promise<UnlockResponse> {
    return this.inner.unlock({ ...request, resourceId: this.#key(request.resourceId) });
  }

  #key(resourceId: string): string {
    if (typeof resourceId !== "string" || resourceId === "") return resourceId; // the store refuses it
    if (resourceId.includes(SEPARATOR)) {
      throw new ComponentError(
        "ERR_INVALID_REQUEST",
        `input key/keyPrefix '${resourceId}' can't contain '${SEPARATOR}'`,
      );
    }
    return this.prefix + resourceId;
  }
}
