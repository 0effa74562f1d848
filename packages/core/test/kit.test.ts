import { describe, expect, it } from "vitest";
import {
  BulkError,
  type BulkMessageHandler,
  type BulkSubscribeRequest,
  ComponentError,
  type DeleteRequest,
  type GetRequest,
  type GetResponse,
  type InvokeRequest,
  type InvokeResponse,
  type MessageHandler,
  type PublishRequest,
  type PubSubCapability,
  type SetRequest,
  type StateCapability,
  type SubscribeRequest,
  type TransactionRequest,
  type TryLockRequest,
  type TryLockResponse,
  UNLOCK_STATUS,
  type UnlockRequest,
  type UnlockResponse,
} from "../src/index.ts";
import {
  BaseComponent,
  BaseInputBinding,
  BaseLockStore,
  BaseOutputBinding,
  BasePubSub,
  BaseStateStore,
  backoffDelay,
  componentErrors,
  retry,
  type StopFunction,
} from "../src/kit/index.ts";

class Counter extends BaseComponent {
  readonly componentType = "test.counter";
  pings = 0;
  closes = 0;
  protected override async onPing(): Promise<void> {
    this.pings++;
  }
  protected override async onClose(): Promise<void> {
    this.closes++;
  }
}

class MapStore extends BaseStateStore {
  readonly componentType = "state.map";
  readonly capabilities: ReadonlySet<StateCapability>;
  readonly items = new Map<string, unknown>();
  transactions: TransactionRequest[] = [];
  constructor(capabilities: StateCapability[] = ["TRANSACTIONAL"]) {
    super();
    this.capabilities = new Set(capabilities);
  }
  protected async getItem(request: GetRequest): Promise<GetResponse> {
    const value = this.items.get(request.key);
    return value === undefined ? { data: null } : { data: new TextEncoder().encode(String(value)) };
  }
  protected async setItem(request: SetRequest): Promise<void> {
    if (request.value === "boom") throw this.errors.error("ERR_INTERNAL", "boom");
    this.items.set(request.key, request.value);
  }
  protected async deleteItem(request: DeleteRequest): Promise<void> {
    this.items.delete(request.key);
  }
  protected override async transactItems(request: TransactionRequest): Promise<void> {
    this.transactions.push(request);
  }
}

const code = (p: Promise<unknown>): Promise<string> =>
  p.then(
    () => "resolved",
    (e: ComponentError) => e.code,
  );

describe("BaseComponent", () => {
  it("pings through onPing while open, refuses with ERR_CLOSED after close, closes once", async () => {
    const c = new Counter();
    await c.ping();
    expect(c.pings).toBe(1);
    await Promise.all([c.close(), c.close()]);
    await c.close();
    expect(c.closes).toBe(1);
    const error = await c.ping().catch((e: ComponentError) => e);
    expect(error).toBeInstanceOf(ComponentError);
    expect((error as ComponentError).code).toBe("ERR_CLOSED");
    expect((error as ComponentError).message).toBe("[test.counter] the component is closed");
  });
});

describe("componentErrors", () => {
  it("names the component in every error it makes", () => {
    const errors = componentErrors("state.x");
    expect(errors.invalid("bad").message).toBe("[state.x] bad");
    expect(errors.invalid("bad").code).toBe("ERR_INVALID_REQUEST");
    expect(errors.notSupported("query").code).toBe("ERR_NOT_SUPPORTED");
    expect(errors.etag("mismatch").component).toBe("state.x");
    expect(errors.config([{ field: "a", message: "b" }]).code).toBe("ERR_CONFIG_INVALID");
  });
});

describe("BaseStateStore", () => {
  it("validates keys and options before the store sees a request", async () => {
    const store = new MapStore();
    expect(await code(store.set({ key: "", value: 1 }))).toBe("ERR_INVALID_REQUEST");
    expect(await code(store.get({ key: "a", options: { consistency: "wrong" as "strong" } }))).toBe(
      "ERR_INVALID_REQUEST",
    );
    expect(await code(store.bulkGet([{ key: "a" }, { key: "" }]))).toBe("ERR_INVALID_REQUEST");
    expect(
      await code(
        store.transact({
          operations: [{ operation: "merge" as "upsert", request: { key: "a", value: 1 } }],
        }),
      ),
    ).toBe("ERR_INVALID_REQUEST");
    expect(store.transactions).toHaveLength(0);
    await store.set({ key: "a", value: 1 });
    expect(await store.getValue("a")).toBe(1);
  });

  it("fails an invalid bulk item alone, together with the store's own failures", async () => {
    const store = new MapStore();
    const error = await store
      .bulkSet([
        { key: "ok", value: 1 },
        { key: "", value: 2 },
        { key: "bad", value: "boom" },
      ])
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BulkError);
    expect((error as BulkError).errors.map((e) => e.key)).toEqual(["", "bad"]);
    expect(store.items.get("ok")).toBe(1);
  });

  it("refuses undeclared capabilities and every call after close", async () => {
    const store = new MapStore([]);
    expect(await code(store.transact({ operations: [] }))).toBe("ERR_NOT_SUPPORTED");
    expect(await code(store.keysLike({ pattern: "a%" }))).toBe("ERR_NOT_SUPPORTED");
    expect(await code(store.deleteWithPrefix({ prefix: "a" }))).toBe("ERR_NOT_SUPPORTED");
    await store.close();
    expect(await code(store.get({ key: "a" }))).toBe("ERR_CLOSED");
  });
});

class Topics extends BasePubSub {
  readonly componentType = "pubsub.test";
  readonly capabilities: ReadonlySet<PubSubCapability> = new Set(["BULK_SUBSCRIBE"]);
  readonly running = new Set<string>();
  published: PublishRequest[] = [];
  protected async publishMessage(request: PublishRequest): Promise<void> {
    this.published.push(request);
  }
  protected async startSubscription(
    request: SubscribeRequest,
    _handler: MessageHandler,
  ): Promise<StopFunction> {
    this.running.add(request.topic);
    return () => void this.running.delete(request.topic);
  }
  protected override async startBulkSubscription(
    request: BulkSubscribeRequest,
    _handler: BulkMessageHandler,
  ): Promise<StopFunction> {
    return this.startSubscription(request, async () => {});
  }
}

describe("BasePubSub", () => {
  it("checks topic, handler and capability, and stops subscriptions on abort and on close", async () => {
    const pubsub = new Topics();
    expect(await code(pubsub.publish({ topic: "", data: new Uint8Array() }))).toBe(
      "ERR_INVALID_REQUEST",
    );
    expect(await code(pubsub.subscribe({ topic: "a" }, "nope" as never))).toBe(
      "ERR_INVALID_REQUEST",
    );
    expect(await code(pubsub.bulkPublish({ topic: "a", entries: [] }))).toBe("ERR_NOT_SUPPORTED");
    const aborter = new AbortController();
    await pubsub.subscribe({ topic: "a", signal: aborter.signal }, async () => {});
    await pubsub.bulkSubscribe({ topic: "b" }, async () => []);
    expect([...pubsub.running].sort()).toEqual(["a", "b"]);
    aborter.abort();
    expect([...pubsub.running]).toEqual(["b"]);
    await pubsub.close();
    expect(pubsub.running.size).toBe(0);
    expect(await code(pubsub.publish({ topic: "a", data: new Uint8Array() }))).toBe("ERR_CLOSED");
  });
});

class Echo extends BaseOutputBinding {
  readonly componentType = "bindings.echo";
  operations(): readonly string[] {
    return ["create"];
  }
  protected async invokeOperation(
    operation: string,
    request: InvokeRequest,
  ): Promise<InvokeResponse> {
    return { data: request.data ?? null, metadata: { operation } };
  }
}

class Ticks extends BaseInputBinding {
  readonly componentType = "bindings.ticks";
  reading = 0;
  protected async startReading(): Promise<StopFunction> {
    this.reading++;
    return () => void this.reading--;
  }
}

describe("bindings", () => {
  it("resolve operations case-insensitively and refuse unknown ones by name", async () => {
    const echo = new Echo();
    expect((await echo.invoke({ operation: "CREATE" })).metadata).toEqual({ operation: "create" });
    const error = await echo.invoke({ operation: "drop" }).catch((e: ComponentError) => e);
    expect((error as ComponentError).code).toBe("ERR_NOT_SUPPORTED");
    expect((error as ComponentError).message).toContain('"drop"');
    expect("read" in echo).toBe(false);
  });

  it("do not start an aborted read and stop reads on close", async () => {
    const ticks = new Ticks();
    await ticks.read(async () => {}, AbortSignal.abort());
    expect(ticks.reading).toBe(0);
    await ticks.read(async () => {});
    expect(ticks.reading).toBe(1);
    await ticks.close();
    expect(ticks.reading).toBe(0);
    expect(await code(ticks.read(async () => {}))).toBe("ERR_CLOSED");
  });
});

describe("backoff", () => {
  it("doubles from the first delay up to the cap, ten times the first by default", () => {
    expect([1, 2, 3, 4, 5, 6].map((a) => backoffDelay({ initialMs: 100 }, a))).toEqual([
      100, 200, 400, 800, 1000, 1000,
    ]);
    expect(backoffDelay({ initialMs: 100, maxMs: 300 }, 9)).toBe(300);
    expect(backoffDelay({ initialMs: 100, jitter: "equal" }, 2, () => 0)).toBe(100);
    expect(backoffDelay({ initialMs: 100, jitter: "equal" }, 2, () => 1)).toBe(200);
  });

  it("retries until success, and stops at maxAttempts with the last error", async () => {
    let calls = 0;
    const value = await retry(
      async () => {
        if (++calls < 3) throw new Error(`fail ${calls}`);
        return "done";
      },
      { policy: { initialMs: 1 } },
    );
    expect([value, calls]).toEqual(["done", 3]);
    await expect(
      retry(
        async (attempt) => {
          throw new Error(`fail ${attempt}`);
        },
        { policy: { initialMs: 1 }, maxAttempts: 2 },
      ),
    ).rejects.toThrow("fail 2");
  });
});

class Locks extends BaseLockStore {
  readonly componentType = "lock.test";
  held = new Map<string, string>();
  protected async acquire(request: TryLockRequest): Promise<TryLockResponse> {
    if (this.held.has(request.resourceId)) return { success: false };
    this.held.set(request.resourceId, request.lockOwner);
    return { success: true };
  }
  protected async release(request: UnlockRequest): Promise<UnlockResponse> {
    this.held.delete(request.resourceId);
    return { status: UNLOCK_STATUS.SUCCESS };
  }
  signal(): AbortSignal {
    return this.closingSignal;
  }
}

describe("BaseLockStore", () => {
  it("validates requests, refuses after close and aborts the closing signal", async () => {
    const locks = new Locks();
    expect(await code(locks.tryLock({ resourceId: "", lockOwner: "me", expiryInSeconds: 5 }))).toBe(
      "ERR_INVALID_REQUEST",
    );
    expect(await locks.tryLock({ resourceId: "r", lockOwner: "me", expiryInSeconds: 5 })).toEqual({
      success: true,
    });
    const signal = locks.signal();
    await locks.close();
    expect(signal.aborted).toBe(true);
    expect((signal.reason as ComponentError).message).toBe("[lock.test] the lock store is closed");
    expect(await code(locks.unlock({ resourceId: "r", lockOwner: "me" }))).toBe("ERR_CLOSED");
  });
});
