// Crash safety: the sidecar process is SIGKILLed in the middle of a 50-step workflow (and again
// while an activity runs); after a restart the workflow completes with the right output, every
// completed activity recorded exactly once in its history, each activity run at least once. The
// sidecar keeps its scheduler owner id across restarts, as `outrig run` does, with a 60 s lease:
// the restarted one takes its instance back at once, never waiting the lease out.
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
import { afterAll, beforeAll, expect, it, vi } from "vitest";
import { decodeEvent } from "../src/workflows/history.ts";
import { freePort } from "./helpers.ts";
import { sidecarProcess } from "./sidecar-process.ts";

const STEPS = 50;
const runs = new Map<number, number>();
const finished = new Set<number>();
let slow = -1;

const step = async (_: WorkflowActivityContext, i: number): Promise<number> => {
  runs.set(i, (runs.get(i) ?? 0) + 1);
  // One step outlasts the kill: it is running when the sidecar dies.
  await new Promise((r) => setTimeout(r, i === slow ? 1000 : 10));
  finished.add(i);
  return i * 2;
};

const long = async function* (
  ctx: WorkflowContext,
  n: number,
): AsyncGenerator<unknown, number, number> {
  let sum = 0;
  for (let i = 0; i < n; i++) sum += yield ctx.callActivity(step, i);
  return sum;
};

let home: string;
let grpcPort: number;

function restartable() {
  return sidecarProcess(
    {
      WF_APP_ID: "wf-crash",
      WF_GRPC_PORT: String(grpcPort),
      WF_STATE_DB: join(home, "state.db"),
      WF_SCHEDULER_DB: join(home, "scheduler.db"),
      WF_OWNER: "this-host/wf-crash",
      WF_LEASE_MS: "60000",
    },
    "workflow-sidecar.ts",
  );
}

/** The instance's history as the sidecar stored it (Dapr's keys, protobuf values). */
function storedHistory(instanceId: string) {
  const db = new DatabaseSync(join(home, "state.db"), { readOnly: true });
  try {
    const rows = db
      .prepare("SELECT key, value, is_binary FROM state WHERE key LIKE ? ORDER BY key")
      .all(`wf-crash||dapr.internal.default.wf-crash.workflow||${instanceId}||history-%`) as {
      value: string;
      is_binary: number;
    }[];
    return rows.map((r) => decodeEvent(Buffer.from(r.value, r.is_binary ? "base64" : "utf8")));
  } finally {
    db.close();
  }
}

let worker: WorkflowRuntime;
let client: DaprWorkflowClient;

beforeAll(async () => {
  // The SDK's durabletask worker logs every work item at info level and has no option to lower it.
  vi.spyOn(console, "info").mockImplementation(() => undefined);
  home = mkdtempSync(join(tmpdir(), "outrig-wf-crash-"));
  grpcPort = await freePort();
});

afterAll(async () => {
  await worker?.stop().catch(() => undefined);
  await client?.stop().catch(() => undefined);
  rmSync(home, { recursive: true, force: true });
});

it("a SIGKILLed sidecar's workflow completes after restart, each activity recorded once", async () => {
  let sidecar = await restartable();
  const options = {
    daprHost: "127.0.0.1",
    daprPort: String(grpcPort),
    // grpc-js shares subchannels between channels: a new worker's first Hello would fail fast on
    // the dead sidecar's backed-off subchannel. Each gets its own, reconnecting briskly.
    grpcOptions: {
      "grpc.use_local_subchannel_pool": 1,
      "grpc.initial_reconnect_backoff_ms": 100,
      "grpc.max_reconnect_backoff_ms": 500,
    },
  };
  // The SDK's worker gives up for good when its first stream fails (its isFirstAttempt rule), as
  // a SIGKILLed sidecar's does: the app starts a new one, as a restarted app would.
  const startWorker = async (): Promise<void> => {
    await worker?.stop().catch(() => undefined);
    worker = new WorkflowRuntime(options).registerWorkflow(long).registerActivity(step);
    await worker.start();
  };
  await startWorker();
  client = new DaprWorkflowClient(options);
  try {
    const id = await client.scheduleNewWorkflow(long, STEPS, "crash-1");
    await waitUntil(
      () => runs.size >= 15,
      20_000,
      () => `15 steps run (ran ${runs.size})`,
    );
    await sidecar.kill();
    sidecar = await restartable();
    await startWorker();
    // Again, while an activity is running.
    slow = runs.size + 5;
    await waitUntil(
      () => runs.has(slow),
      30_000,
      () => `step ${slow} started (ran ${runs.size})`,
    );
    await sidecar.kill();
    // Its result goes nowhere while no sidecar listens: the restarted one must run it again.
    await waitUntil(() => finished.has(slow), 10_000, `step ${slow} finished`);
    await new Promise((r) => setTimeout(r, 200));
    sidecar = await restartable();
    await startWorker();
    // The client's channel may still be backing off from the dead sidecar: ask until it answers.
    let state: Awaited<ReturnType<DaprWorkflowClient["waitForWorkflowCompletion"]>>;
    await waitUntil(
      async () => {
        state = await client.waitForWorkflowCompletion(id, true, 60).catch(() => undefined);
        return state !== undefined;
      },
      60_000,
      "the workflow completed",
      200,
    );
    expect(state?.runtimeStatus).toBe(WorkflowRuntimeStatus.COMPLETED);
    expect(JSON.parse(state?.serializedOutput ?? "0")).toBe(STEPS * (STEPS - 1));
    const history = storedHistory(id);
    const scheduled = history.filter((e) => e.taskScheduled);
    const completed = history.filter((e) => e.taskCompleted);
    expect(scheduled).toHaveLength(STEPS);
    expect(completed).toHaveLength(STEPS);
    expect(new Set(completed.map((e) => e.taskCompleted?.taskScheduledId)).size).toBe(STEPS);
    // At least once: every step ran, the one whose result was lost twice.
    expect(runs.size).toBe(STEPS);
    expect(runs.get(slow)).toBeGreaterThanOrEqual(2);
  } finally {
    await sidecar.kill();
  }
}, 120_000);
