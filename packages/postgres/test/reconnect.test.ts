import { randomUUID } from "node:crypto";
import { startPostgres, useService } from "@outrig/conformance/services";
import { ComponentError, utf8 } from "@outrig/core";
import { describe, expect, it } from "vitest";
import { createPostgresStateStore } from "../src/index.ts";

// A restart needs a container of its own, even when OUTRIG_TEST_POSTGRES_URL points at a shared server.
const postgres = useService(() => startPostgres({ container: true }));

async function codeOf(promise: Promise<unknown>): Promise<string> {
  return promise.then(
    () => "resolved",
    (error: unknown) =>
      error instanceof ComponentError ? error.code : `not a ComponentError: ${String(error)}`,
  );
}

async function eventually(check: () => Promise<boolean>, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return true;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  return false;
}

describe("state.postgresql while the server restarts", () => {
  it("fails fast with ERR_UNAVAILABLE while PostgreSQL is down and works again once it is back", async () => {
    const store = await createPostgresStateStore({
      connectionString: postgres().connectionString,
      timeout: "5s",
    });
    const key = `${randomUUID()}-reconnect`;
    try {
      await store.set({ key, value: "before" });
      await postgres().stopTemporarily();

      const started = Date.now();
      const codes = await Promise.all([
        codeOf(store.get({ key })),
        codeOf(store.set({ key, value: "during" })),
        codeOf(store.bulkGet([{ key }, { key: `${key}-2` }]).then(() => undefined)),
        codeOf(store.transact({ operations: [{ operation: "delete", request: { key } }] })),
        codeOf(store.query({ query: { filter: { EQ: { a: 1 } } } })),
        codeOf(store.ping()),
      ]);
      expect(codes).toEqual(Array(6).fill("ERR_UNAVAILABLE"));
      // Not a timed benchmark: a bound far above a fast failure, far below a hang.
      expect(Date.now() - started).toBeLessThan(10_000);

      await postgres().start();
      const back = await eventually(
        async () => (await codeOf(store.ping())) === "resolved",
        30_000,
      );
      expect(back, "the store must reconnect on its own once PostgreSQL is back").toBe(true);
      // The container keeps its data across a stop and start.
      expect(utf8((await store.get({ key })).data!)).toBe('"before"');
      await store.set({ key, value: "after" });
      expect(utf8((await store.get({ key })).data!)).toBe('"after"');
    } finally {
      await store.close();
    }
  });

  it("fails fast with ERR_UNAVAILABLE across a full restart and reconnects afterwards", async () => {
    const store = await createPostgresStateStore({
      connectionString: postgres().connectionString,
      timeout: "5s",
    });
    const key = `${randomUUID()}-restart`;
    try {
      await store.set({ key, value: 1 });
      const restarting = postgres().restart();
      let done = false;
      restarting.then(() => {
        done = true;
      });
      // A call every 50 ms without waiting for the previous one, so some are made while it is down.
      const outcomes: Promise<string>[] = [];
      const deadline = Date.now() + 90_000;
      while (!done && Date.now() < deadline) {
        outcomes.push(codeOf(store.get({ key }).then(() => undefined)));
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      await restarting;
      const seen = new Set(await Promise.all(outcomes));
      for (const code of seen) expect(["resolved", "ERR_UNAVAILABLE"]).toContain(code);
      expect(
        seen.has("ERR_UNAVAILABLE"),
        `outcomes seen during the restart: ${[...seen].join(", ")}`,
      ).toBe(true);
      const back = await eventually(
        async () => (await codeOf(store.ping())) === "resolved",
        30_000,
      );
      expect(back).toBe(true);
      await store.set({ key, value: 2 });
      expect(utf8((await store.get({ key })).data!)).toBe("2");
    } finally {
      await store.close();
    }
  });
});
