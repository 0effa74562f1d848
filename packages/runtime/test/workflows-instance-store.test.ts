// An instance is read from several keys in two steps (metadata, then history and inbox), so a
// commit by another sidecar can land between them. The read must see one commit's state: here
// a commit that moves the inbox into the history is made inside the store's bulkGet, exactly
// between the two steps, on a real in-memory store.
import type { StateStore } from "@outrig/core";
import { createMemoryStateStore } from "@outrig/memory";
import { describe, expect, it } from "vitest";
import { event, type HistoryEvent } from "../src/workflows/history.ts";
import { type InstanceMeta, InstanceStore } from "../src/workflows/instance-store.ts";
import { instanceKeys } from "../src/workflows/keys.ts";

const keys = instanceKeys("app", "dapr.internal.default.app.workflow");
const meta = (historyLength: number, inboxLength: number, generation: number): InstanceMeta => ({
  name: "wf",
  executionId: "e1",
  status: "ORCHESTRATION_STATUS_RUNNING",
  createdAt: 1,
  updatedAt: 1,
  historyLength,
  inboxLength,
  generation,
});
const started = event("executionStarted", {
  name: "wf",
  input: null,
  orchestrationInstance: { instanceId: "i1" },
});
const raised = (name: string): HistoryEvent => event("eventRaised", { name, input: null });

describe("InstanceStore.load", () => {
  it("reads again when a commit lands between the metadata and the entries: never a torn instance", async () => {
    const backing = await createMemoryStateStore();
    let interleave: (() => Promise<void>) | undefined;
    // The real store, with one commit slipped in at the start of the next bulkGet.
    const store = new Proxy(backing, {
      get(target, prop, receiver) {
        if (prop === "bulkGet") {
          return async (...args: Parameters<StateStore["bulkGet"]>) => {
            const run = interleave;
            interleave = undefined;
            await run?.();
            return target.bulkGet(...args);
          };
        }
        const value = Reflect.get(target, prop, receiver);
        return typeof value === "function" ? value.bind(target) : value;
      },
    }) as StateStore;
    const instances = new InstanceStore(() => store, keys);
    // Generation 1: history [started], inbox [a].
    const first = await instances.commit(
      "i1",
      undefined,
      { historyLength: 0, inboxLength: 0 },
      {
        meta: meta(1, 1, 1),
        history: [started],
        keptHistory: 0,
        inbox: [raised("a")],
        keptInbox: 0,
      },
    );
    // Generation 2, committed mid-read: the inbox moved into the history, a new event waits.
    let commits = 0;
    interleave = async () => {
      commits++;
      await instances.commit(
        "i1",
        first,
        { historyLength: 1, inboxLength: 1 },
        {
          meta: meta(2, 1, 2),
          history: [started, raised("a")],
          keptHistory: 1,
          inbox: [raised("b")],
          keptInbox: 0,
        },
      );
    };
    const loaded = await instances.load("i1");
    expect(commits, "the commit landed inside the read").toBe(1);
    expect(loaded?.meta.generation).toBe(2);
    expect(loaded?.history.map((e) => e.eventRaised?.name ?? "started")).toEqual(["started", "a"]);
    expect(loaded?.inbox.map((e) => e.eventRaised?.name)).toEqual(["b"]);
    await backing.close();
  });
});
