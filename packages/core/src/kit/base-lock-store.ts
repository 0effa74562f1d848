import {
  type LockStore,
  type TryLockRequest,
  type TryLockResponse,
  type UnlockRequest,
  type UnlockResponse,
  validateTryLock,
  validateUnlock,
} from "../lock.ts";
import { BaseComponent } from "./base-component.ts";

/**
 * A base for lock stores: `tryLock` and `unlock` check the store is open and the request is
 * valid (`validateTryLock`/`validateUnlock`), then call `acquire`/`release`.
 */
export abstract class BaseLockStore extends BaseComponent implements LockStore {
  protected override readonly closedMessage: string = "the lock store is closed";

  protected abstract acquire(request: TryLockRequest): Promise<TryLockResponse>;
  protected abstract release(request: UnlockRequest): Promise<UnlockResponse>;

  async tryLock(request: TryLockRequest): Promise<TryLockResponse> {
    this.checkOpen();
    validateTryLock(request, this.componentType);
    return this.acquire(request);
  }

  async unlock(request: UnlockRequest): Promise<UnlockResponse> {
    this.checkOpen();
    validateUnlock(request, this.componentType);
    return this.release(request);
  }
}
