// Several sidecars of one app (one actor state store, one scheduler store: SQLite files they
// share, and again PostgreSQL tables) share the workflow work: each drives the instances whose ownership lease it holds, with
// its own worker app (the unmodified @dapr/dapr WorkflowRuntime). Workflows started through one
// sidecar are run on several, every activity recorded exactly once; a SIGKILLed sidecar's
// workflows are taken over by the survivors once its leases run out, and complete.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import {
  DaprWorkflowClient,
  type WorkflowActivityContext,
  type WorkflowContext,
  WorkflowRuntime,
  WorkflowRuntimeStatus,
} from "@dapr/dapr";
import { waitUntil } from "@outrig/conformance/testing";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { decodeEvent } from "../src/workflows/history.ts";
import { freePort } from "./helpers.ts";
import { sidecarProcess } from "./sidecar-process.ts";

const PG = "postgres://postgres@127.0.0.1:5432/test";
const SIDECARS = 3;
const STEPS = 4;
const WORKFLOWS = 20;
/** Each sidecar drives at most this many at once, so one sidecar cannot take all 20. */
const MAX_INSTANCES = 8;
const LEASE_MS = 3000;

interface Step {
  wf: number;
  i: number;
  ms: number;
}

/** Every run of an activity: which sidecar's worker ran it, for which workflow and step. */
const runs: { sidecar: number; wf: number; i: number; at: number }[] = [];

const shared = async function* (
  ctx: WorkflowContext,
  input: { wf: number; ms: number },
): AsyncGenerator<unknown, number, number> {
  let sum = 0;
  for (let i = 0; i < STEPS; i++) {
    sum += yield ctx.callActivity("step", { wf: input.wf, i, ms: input.ms });
  }
  return sum;
};
const expected = (wf: number): number => STEPS * wf * 10 + (STEPS * (STEPS - 1)) / 2;

const grpcOptions = {
  "grpc.use_local_subchannel_pool": 1,
  "grpc.initial_reconnect_backoff_ms": 100,
  "grpc.max_reconnect_backoff_ms": 500,
};

/** Where the sidecars keep things, and how the test reads an instance's stored history. */
interface Stores {
  name: string;
  env(home: string): Record<string, string>;
  /** The stored rows whose key is LIKE `key`: [value, isBinary], in key order. */
  rows(home: string, key: string): Promise<[string, boolean][]>;
  close(): Promise<void>;
}

const sqlite: Stores = {
  name: "SQLite",
  env: (home) => ({
    WF_STATE_DB: join(home, "state.db"),
    WF_SCHEDULER_DB: join(home, "scheduler.db"),
  }),
  rows: async (home, key) => {
    const db = new DatabaseSync(join(home, "state.db"), { readOnly: true });
    try {
      const rows = db
        .prepare("SELECT value, is_binary FROM state WHERE key LIKE ? ORDER BY key")
        .all(key) as { value: string; is_binary: number }[];
      return rows.map((r) => [r.value, r.is_binary === 1]);
    } finally {
      db.close();
    }
  },
  close: async () => undefined,
};

function postgres(): Stores {
  // Its own state table, dropped afterwards; the scheduler table is shared, keyed by app id.
  const table = `outrig_wfshare_${process.pid}`;
  const pool = new pg.Pool({ connectionString: PG, max: 2 });
  return {
    name: "PostgreSQL",
    env: () => ({ WF_STATE_PG: PG, WF_STATE_TABLE: table, WF_SCHEDULER_DB: PG }),
    rows: async (_, key) => {
      const { rows } = await pool.query<{ value: unknown; isbinary: boolean }>(
        `SELECT value, isbinary FROM ${table} WHERE key LIKE $1 ORDER BY key`,
        [key],
      );
      return rows.map((r) => [
        typeof r.value === "string" ? r.value : JSON.stringify(r.value),
        r.isbinary,
      ]);
    },
    close: async () => {
      await pool.query(`DROP TABLE IF EXISTS ${table}`).catch(() => undefined);
      await pool.end();
    },
  };
}

describe.each([sqlite, postgres()])("on $name", (stores) => {
  // An app id of its own per run: the PostgreSQL scheduler table is shared with other tests.
  const app = `wf-share-${stores.name === "SQLite" ? "lite" : "pg"}-${process.pid}`;

  let home: string;
  const sidecars: Awaited<ReturnType<typeof sidecarProcess>>[] = [];
  const workers: WorkflowRuntime[] = [];
  let client: DaprWorkflowClient;
  /** One client per sidecar, for starts made through each. */
  const clients: DaprWorkflowClient[] = [];

  /** Each of the STEPS activities scheduled once and completed exactly once. */
  async function expectExactlyOnce(instanceId: string): Promise<void> {
    const rows = await stores.rows(
      home,
      `${app}||dapr.internal.default.${app}.workflow||${instanceId}||history-%`,
    );
    const history = rows.map(([value, binary]) =>
      decodeEvent(Buffer.from(value, binary ? "base64" : "utf8")),
    );
    const scheduled = history.filter((e) => e.taskScheduled).map((e) => e.eventId);
    const completed = history
      .filter((e) => e.taskCompleted)
      .map((e) => e.taskCompleted?.taskScheduledId);
    expect(scheduled, instanceId).toHaveLength(STEPS);
    expect(completed, instanceId).toHaveLength(STEPS);
    expect(new Set(completed), instanceId).toEqual(new Set(scheduled));
  }

  async function runAll(prefix: string, ids: string[]): Promise<void> {
    for (const [wf, id] of ids.entries()) {
      const state = await client.waitForWorkflowCompletion(id, true, 60);
      expect(state?.runtimeStatus, id).toBe(WorkflowRuntimeStatus.COMPLETED);
      expect(JSON.parse(state?.serializedOutput ?? "null"), id).toBe(expected(wf));
      await expectExactlyOnce(id);
    }
    expect(ids.every((id) => id.startsWith(prefix))).toBe(true);
  }

  beforeAll(async () => {
    runs.length = 0;
    // The SDK's durabletask worker logs every work item at info level and has no option to lower it.
    vi.spyOn(console, "info").mockImplementation(() => undefined);
    home = mkdtempSync(join(tmpdir(), "outrig-wf-share-"));
    for (let n = 0; n < SIDECARS; n++) {
      const grpcPort = await freePort();
      sidecars.push(
        await sidecarProcess(
          {
            WF_APP_ID: app,
            WF_GRPC_PORT: String(grpcPort),
            ...stores.env(home),
            WF_LEASE_MS: String(LEASE_MS),
            WF_MAX_INSTANCES: String(MAX_INSTANCES),
          },
          "workflow-sidecar.ts",
        ),
      );
      const options = { daprHost: "127.0.0.1", daprPort: String(grpcPort), grpcOptions };
      // One worker app per sidecar; its activity notes which sidecar ran it.
      const step = async (_: WorkflowActivityContext, s: Step): Promise<number> => {
        runs.push({ sidecar: n, wf: s.wf, i: s.i, at: Date.now() });
        await new Promise((r) => setTimeout(r, s.ms));
        return s.wf * 10 + s.i;
      };
      const worker = new WorkflowRuntime(options)
        .registerWorkflowWithName("shared", shared)
        .registerActivityWithName("step", step);
      await worker.start();
      workers.push(worker);
      clients.push(new DaprWorkflowClient(options));
      if (n === 0) client = clients[0] as DaprWorkflowClient;
    }
  }, 60_000);

  afterAll(async () => {
    for (const worker of workers) await worker.stop().catch(() => undefined);
    for (const c of clients) await c.stop().catch(() => undefined);
    clients.length = 0;
    for (const sidecar of sidecars) await sidecar.kill();
    sidecars.length = 0;
    workers.length = 0;
    await stores.close();
    rmSync(home, { recursive: true, force: true });
  });

  it("workflows started through one sidecar run on several, each activity recorded once", async () => {
    const ids: string[] = [];
    for (let wf = 0; wf < WORKFLOWS; wf++) {
      ids.push(await client.scheduleNewWorkflow("shared", { wf, ms: 50 }, `one-${wf}`));
    }
    await runAll("one-", ids);
    const ran = runs.filter((r) => r.wf < WORKFLOWS);
    expect(new Set(ran.map((r) => r.sidecar)).size).toBeGreaterThan(1);
    // At least once: every step of every workflow ran (one sent again may have run twice).
    for (let wf = 0; wf < WORKFLOWS; wf++) {
      for (let i = 0; i < STEPS; i++) expect(ran.some((r) => r.wf === wf && r.i === i)).toBe(true);
    }
  }, 120_000);

  it("one instance id started through every sidecar at once is created once; the others get Dapr's exists error", async () => {
    const id = `same-${process.pid}`;
    const starts = await Promise.allSettled(
      clients.map((c) => c.scheduleNewWorkflow("shared", { wf: 7, ms: 10 }, id)),
    );
    const refused = starts.filter((s) => s.status === "rejected");
    expect(
      starts.filter((s) => s.status === "fulfilled"),
      JSON.stringify(starts),
    ).toHaveLength(1);
    expect(refused).toHaveLength(SIDECARS - 1);
    for (const r of refused) {
      expect(
        String((r as PromiseRejectedResult).reason),
        "the refusal names the instance",
      ).toContain(id);
    }
    const state = await client.waitForWorkflowCompletion(id, true, 60);
    expect(state?.runtimeStatus).toBe(WorkflowRuntimeStatus.COMPLETED);
    expect(JSON.parse(state?.serializedOutput ?? "null")).toBe(expected(7));
    const rows = await stores.rows(
      home,
      `${app}||dapr.internal.default.${app}.workflow||${id}||history-%`,
    );
    const started = rows.filter(([value, binary]) =>
      Boolean(decodeEvent(Buffer.from(value, binary ? "base64" : "utf8")).executionStarted),
    );
    expect(started, "one executionStarted in the history").toHaveLength(1);
  });

  it("a SIGKILLed sidecar's workflows complete on the survivors, each activity recorded once", async () => {
    runs.length = 0;
    const victim = 1;
    const ids: string[] = [];
    for (let wf = 0; wf < WORKFLOWS; wf++) {
      ids.push(await client.scheduleNewWorkflow("shared", { wf, ms: 300 }, `kill-${wf}`));
    }
    // Mid-flight: the victim has started work, and none of its workflows is done.
    await waitUntil(
      () => runs.some((r) => r.sidecar === victim),
      30_000,
      "the victim sidecar runs an activity",
    );
    const killedAt = Date.now();
    await (sidecars[victim] as (typeof sidecars)[number]).kill();
    await (workers[victim] as WorkflowRuntime).stop().catch(() => undefined);
    const victims = new Set(
      runs.filter((r) => r.sidecar === victim && r.at <= killedAt).map((r) => r.wf),
    );
    expect(victims.size).toBeGreaterThan(0);
    await runAll("kill-", ids);
    // The victim's workflows went on on a survivor after the kill.
    for (const wf of victims) {
      expect(
        runs.some((r) => r.wf === wf && r.sidecar !== victim && r.at > killedAt),
        `workflow ${wf} resumed on a survivor`,
      ).toBe(true);
    }
  }, 120_000);
});
