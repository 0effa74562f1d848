import { describe, expect, it } from "vitest";
import {
  BaseStateStore,
  BulkError,
  BulkItemError,
  ComponentError,
  ConfigError,
  type DeleteRequest,
  defineManifest,
  ETagError,
  type GetRequest,
  type GetResponse,
  hasEtag,
  isComponentError,
  mapWithParallelism,
  notSupported,
  type SetRequest,
  type StateCapability,
  type StateOptions,
  throwBulkFailures,
  validateStateOptions,
} from "../src/index.ts";

describe("errors", () => {
  it("ETagError carries its kind and the matching code", () => {
    const mismatch = new ETagError("mismatch");
    expect(mismatch).toBeInstanceOf(ComponentError);
    expect(mismatch.code).toBe("ERR_ETAG_MISMATCH");
    expect(new ETagError("invalid").code).toBe("ERR_ETAG_INVALID");
    expect(new ETagError("mismatch", "stale", { component: "state.x" }).message).toBe(
      "[state.x] stale",
    );
  });

  it("BulkItemError keeps the key, inherits the cause's code and exposes the ETag error", () => {
    const cause = new ETagError("mismatch");
    const item = new BulkItemError("k1", cause);
    expect(item.key).toBe("k1");
    expect(item.code).toBe("ERR_ETAG_MISMATCH");
    expect(item.etagError()).toBe(cause);
    expect(item.cause).toBe(cause);
    const plain = new BulkItemError("k2", new Error("boom"));
    expect(plain.code).toBe("ERR_INTERNAL");
    expect(plain.etagError()).toBeUndefined();
    expect(plain.message).toContain("boom");
  });

  it("BulkError lists only the failed keys", () => {
    const error = new BulkError([new BulkItemError("a", "x"), new BulkItemError("b", "y")]);
    expect(error.code).toBe("ERR_BULK");
    expect(error.errors.map((e) => e.key)).toEqual(["a", "b"]);
    expect(error.details).toEqual({ keys: ["a", "b"] });
  });

  it("ConfigError names every issue", () => {
    const error = new ConfigError([
      { field: "a", message: "is required" },
      { field: "b", message: "must be an integer" },
    ]);
    expect(error.code).toBe("ERR_CONFIG_INVALID");
    expect(error.message).toBe("invalid metadata: a: is required; b: must be an integer");
  });

  it("notSupported and isComponentError", () => {
    const error = notSupported("query", "state.x");
    expect(error.code).toBe("ERR_NOT_SUPPORTED");
    expect(isComponentError(error)).toBe(true);
    expect(isComponentError(error, "ERR_NOT_SUPPORTED")).toBe(true);
    expect(isComponentError(error, "ERR_BULK")).toBe(false);
    expect(isComponentError(new Error("x"))).toBe(false);
  });
});

describe("state helpers", () => {
  it("validateStateOptions accepts Dapr's values and rejects others", () => {
    expect(() => validateStateOptions(undefined)).not.toThrow();
    expect(() =>
      validateStateOptions({ concurrency: "first-write", consistency: "strong" }),
    ).not.toThrow();
    expect(() =>
      validateStateOptions({ concurrency: "last-write", consistency: "eventual" }),
    ).not.toThrow();
    for (const bad of [{ concurrency: "x" }, { consistency: "x" }]) {
      try {
        validateStateOptions(bad as unknown as StateOptions);
        expect.fail("must throw");
      } catch (error) {
        expect((error as ComponentError).code).toBe("ERR_INVALID_REQUEST");
      }
    }
  });

  it("hasEtag: only a non-empty string counts", () => {
    expect(hasEtag("1")).toBe(true);
    expect(hasEtag("")).toBe(false);
    expect(hasEtag(undefined)).toBe(false);
    expect(hasEtag(null)).toBe(false);
  });

  it("mapWithParallelism keeps order, settles every item and bounds the number in flight", async () => {
    let inFlight = 0;
    let peak = 0;
    const results = await mapWithParallelism([1, 2, 3, 4, 5], 2, async (n) => {
      inFlight++;
      peak = Math.max(peak, inFlight);
      await new Promise((r) => setTimeout(r, 5));
      inFlight--;
      if (n === 3) throw new Error("three");
      return n * 10;
    });
    expect(peak).toBe(2);
    expect(results.map((r) => r.status)).toEqual([
      "fulfilled",
      "fulfilled",
      "rejected",
      "fulfilled",
      "fulfilled",
    ]);
    expect((results[4] as PromiseFulfilledResult<number>).value).toBe(50);
  });

  it("mapWithParallelism with parallelism <= 0 runs everything at once", async () => {
    let peak = 0;
    let inFlight = 0;
    await mapWithParallelism([1, 2, 3, 4], 0, async () => {
      peak = Math.max(peak, ++inFlight);
      await new Promise((r) => setTimeout(r, 5));
      inFlight--;
    });
    expect(peak).toBe(4);
  });

  it("throwBulkFailures throws only for rejected items", () => {
    expect(() => throwBulkFailures(["a"], [{ status: "fulfilled", value: 1 }])).not.toThrow();
    try {
      throwBulkFailures(
        ["a", "b", "c"],
        [
          { status: "fulfilled", value: 1 },
          { status: "rejected", reason: new ETagError("mismatch") },
          { status: "fulfilled", value: 1 },
        ],
        "state.x",
      );
      expect.fail("must throw");
    } catch (error) {
      expect(error).toBeInstanceOf(BulkError);
      expect((error as BulkError).errors.map((e) => e.key)).toEqual(["b"]);
      expect((error as BulkError).errors[0]?.etagError()?.kind).toBe("mismatch");
    }
  });
});

class MapStore extends BaseStateStore {
  readonly componentType = "state.test";
  readonly capabilities: ReadonlySet<StateCapability> = new Set<StateCapability>();
  readonly data = new Map<string, Uint8Array>();
  async get(r: GetRequest): Promise<GetResponse> {
    if (r.key === "broken") throw new Error("read failed");
    return { data: this.data.get(r.key) ?? null };
  }
  async set(r: SetRequest): Promise<void> {
    if (r.key.startsWith("bad")) throw new ETagError("mismatch");
    this.data.set(r.key, new TextEncoder().encode(JSON.stringify(r.value)));
  }
  async delete(r: DeleteRequest): Promise<void> {
    if (r.key.startsWith("bad")) throw new ETagError("mismatch");
    this.data.delete(r.key);
  }
  async ping(): Promise<void> {}
  async close(): Promise<void> {}
}

describe("BaseStateStore", () => {
  it("getValue returns the decoded JSON value, typed by the caller, or undefined", async () => {
    const store = new MapStore();
    await store.set({ key: "user", value: { name: "zed", score: 42 } });
    const user = await store.getValue<{ name: string; score: number }>("user");
    expect(user?.name).toBe("zed");
    expect(await store.getValue({ key: "user" })).toEqual({ name: "zed", score: 42 });
    expect(await store.getValue("missing")).toBeUndefined();
  });

  it("optional operations reject with ERR_NOT_SUPPORTED until implemented", async () => {
    const store = new MapStore();
    for (const call of [
      () => store.transact({ operations: [] }),
      () => store.query({ query: {} }),
      () => store.deleteWithPrefix({ prefix: "a" }),
      () => store.keysLike({ pattern: "%" }),
    ]) {
      await expect(call()).rejects.toMatchObject({ code: "ERR_NOT_SUPPORTED" });
    }
  });

  it("bulkSet and bulkDelete are non-atomic with per-key errors", async () => {
    const store = new MapStore();
    const error = await store
      .bulkSet([
        { key: "a", value: 1 },
        { key: "bad1", value: 2 },
        { key: "c", value: 3 },
      ])
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BulkError);
    expect((error as BulkError).errors.map((e) => e.key)).toEqual(["bad1"]);
    expect([...store.data.keys()].sort()).toEqual(["a", "c"]);
    const deleteError = await store
      .bulkDelete([{ key: "a" }, { key: "bad2" }])
      .catch((e: unknown) => e);
    expect((deleteError as BulkError).errors.map((e) => e.key)).toEqual(["bad2"]);
    expect(store.data.has("a")).toBe(false);
  });

  it("bulkGet reports a failed read in the item's error, not as a rejection", async () => {
    const store = new MapStore();
    await store.set({ key: "a", value: 1 });
    const items = await store.bulkGet([{ key: "a" }, { key: "broken" }, { key: "missing" }]);
    expect(items.map((i) => [i.key, i.error])).toEqual([
      ["a", ""],
      ["broken", "read failed"],
      ["missing", ""],
    ]);
    expect(items[2]?.data).toBeNull();
  });
});

describe("defineManifest", () => {
  it("rejects a duplicate type/version and freezes the manifest", () => {
    const component = { type: "state.x", version: "v1" } as never;
    expect(() =>
      defineManifest({
        packageName: "@outrig/x",
        version: "0.0.0",
        components: [component, component],
      }),
    ).toThrow(/duplicate component state.x\/v1/);
    const manifest = defineManifest({
      packageName: "@outrig/x",
      version: "0.0.0",
      components: [component],
    });
    expect(Object.isFrozen(manifest)).toBe(true);
  });
});
