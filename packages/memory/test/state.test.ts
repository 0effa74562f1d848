import { ComponentError, ConfigError, STATE_CAPABILITIES } from "@outrig/core";
import { describe, expect, it } from "vitest";
import { createMemoryStateStore, MemoryStateStore, stateDefinition } from "../src/state.ts";
import { stateOptions } from "../src/state-options.ts";

const json = (data: Uint8Array | null | undefined) =>
  JSON.parse(new TextDecoder().decode(data ?? new Uint8Array()));

describe("state.in-memory: options and definition", () => {
  it("declares every implemented capability, and ACTOR only as the actor store", async () => {
    const plain = await createMemoryStateStore();
    expect([...plain.capabilities].sort()).toEqual(
      ["DELETE_WITH_PREFIX", "ETAG", "KEYS_LIKE", "QUERY_API", "TRANSACTIONAL", "TTL"].sort(),
    );
    const actor = await stateDefinition.create({ ACTORSTATESTORE: "true" });
    expect(actor.capabilities.has("ACTOR")).toBe(true);
    await Promise.all([plain.close(), actor.close()]);
  });

  it("withholds ACTOR when transactions or ETags are withdrawn", async () => {
    const store = new MemoryStateStore({ actorStateStore: true, capabilities: ["ETAG", "TTL"] });
    expect([...store.capabilities].sort()).toEqual(["ETAG", "TTL"]);
    await store.close();
  });

  it("the definition names the type, every capability it can declare and the option schema", () => {
    expect(stateDefinition.type).toBe("state.in-memory");
    expect(stateDefinition.kind).toBe("state");
    for (const cap of stateDefinition.capabilities) expect(STATE_CAPABILITIES).toContain(cap);
    expect(stateDefinition.capabilities).toContain("ACTOR");
    expect(Object.keys(stateDefinition.options.fields).sort()).toEqual([
      "actorStateStore",
      "cleanupInterval",
    ]);
  });

  it("parses cleanupInterval as a duration, with the Dapr SQL alias and bare seconds", () => {
    expect(stateOptions.parse({}).cleanupInterval).toBe(10_000);
    expect(stateOptions.parse({ cleanupInterval: "250ms" }).cleanupInterval).toBe(250);
    expect(stateOptions.parse({ cleanupIntervalInSeconds: "30" }).cleanupInterval).toBe(30_000);
    expect(stateOptions.parse({ cleanupInterval: "0" }).cleanupInterval).toBe(0);
  });

  it("rejects bad metadata with one ConfigError naming every field", async () => {
    const error = await createMemoryStateStore({
      cleanupInterval: "often",
      actorStateStore: "perhaps",
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).issues.map((i) => i.field).sort()).toEqual([
      "actorStateStore",
      "cleanupInterval",
    ]);
  });

  it("library mode: typed options named as in the YAML; an unknown option is a ConfigError", async () => {
    const store = await createMemoryStateStore({ cleanupInterval: 250, actorStateStore: true });
    expect(store.capabilities.has("ACTOR")).toBe(true);
    await store.close();
    const typo = await createMemoryStateStore({
      // @ts-expect-error: not an option of state.in-memory (the type refuses it too)
      cleanupIntervall: "1s",
    }).catch((e: unknown) => e);
    expect(typo).toBeInstanceOf(ConfigError);
    expect((typo as ConfigError).issues).toEqual([
      {
        field: "cleanupIntervall",
        message: "is not an option of state.in-memory (options: cleanupInterval, actorStateStore)",
      },
    ]);
  });

  it("the definition's create builds a working store and ignores unknown metadata", async () => {
    const store = await stateDefinition.create({ keyPrefix: "none", somethingDaprSpecific: "x" });
    await store.set({ key: "k", value: 1 });
    expect(json((await store.get({ key: "k" })).data)).toBe(1);
    await store.close();
  });
});

describe("state.in-memory: behaviour beyond the suite", () => {
  it("after close every operation rejects with ERR_CLOSED, and close stays idempotent", async () => {
    const store = new MemoryStateStore();
    await store.set({ key: "k", value: 1 });
    await store.close();
    for (const call of [
      () => store.get({ key: "k" }),
      () => store.set({ key: "k", value: 2 }),
      () => store.delete({ key: "k" }),
      () => store.ping(),
      () => store.transact({ operations: [] }),
      () => store.keysLike({ pattern: "%" }),
    ]) {
      const error = await call().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ComponentError);
      expect((error as ComponentError).code).toBe("ERR_CLOSED");
    }
    await expect(store.close()).resolves.toBeUndefined();
  });

  it("rejects empty keys and unknown transaction operations with ERR_INVALID_REQUEST", async () => {
    const store = new MemoryStateStore();
    await expect(store.set({ key: "", value: 1 })).rejects.toMatchObject({
      code: "ERR_INVALID_REQUEST",
    });
    await expect(
      store.transact({ operations: [{ operation: "merge", request: { key: "k" } } as never] }),
    ).rejects.toMatchObject({ code: "ERR_INVALID_REQUEST" });
    await store.close();
  });

  it("query: no filter returns every JSON value in key order, skipping raw bytes; bad tokens are rejected", async () => {
    const store = new MemoryStateStore();
    await store.set({ key: "b", value: { n: 2 } });
    await store.set({ key: "a", value: { n: 1 } });
    await store.set({ key: "raw", value: new Uint8Array([0xff, 0x00]) });
    await store.set({ key: "c", value: "text" });
    const res = await store.query({ query: {} });
    expect(res.results.map((r) => r.key)).toEqual(["a", "b", "c"]);
    expect(res.token).toBeUndefined();
    await expect(
      store.query({ query: { page: { token: "not-an-offset" } } }),
    ).rejects.toMatchObject({
      code: "ERR_INVALID_REQUEST",
    });
    await store.close();
  });

  it("transaction-level metadata applies to every operation (a TTL here)", async () => {
    const store = new MemoryStateStore();
    await store.transact({
      operations: [{ operation: "upsert", request: { key: "t", value: 1 } }],
      metadata: { ttlInSeconds: "3600" },
    });
    expect((await store.get({ key: "t" })).metadata?.ttlExpireTime).toBeTruthy();
    await store.close();
  });

  it("returns the write's contentType on read", async () => {
    const store = new MemoryStateStore();
    await store.set({ key: "j", value: { a: 1 }, metadata: { contentType: "application/json" } });
    expect((await store.get({ key: "j" })).contentType).toBe("application/json");
    await store.set({ key: "p", value: "x" });
    expect((await store.get({ key: "p" })).contentType).toBeUndefined();
    await store.close();
  });
});
