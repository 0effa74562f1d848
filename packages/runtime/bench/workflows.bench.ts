// Workflow throughput: BENCH_WORKFLOWS (default 1,000) workflows of 3 activities each, started
// 64 at a time through the unmodified @dapr/dapr DaprWorkflowClient and run by its
// WorkflowRuntime (in this process) against a fresh sidecar per store, one after the other:
//   sqlite    actor state store state.sqlite, scheduler SQLite (the defaults)
//   postgres  state.postgresql and the scheduler on BENCH_POSTGRES (a postgres:// URL); included
//             when BENCH_POSTGRES is set
//   memory    state.in-memory (scheduler SQLite), to see what the store costs
// BENCH_STATE picks the list (default: sqlite, and postgres when BENCH_POSTGRES is set).
// Prints workflows/s, activities/s and the start-to-completion latency p50/p99 per store, and
// checks that none was lost and none ran an activity twice. Instances are purged afterwards (not
// timed), so a shared PostgreSQL does not grow from run to run.
// Run: BENCH_POSTGRES=postgres://postgres@127.0.0.1:5432/test pnpm --filter @outrig/runtime bench:workflows
import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import {
  DaprWorkflowClient,
  type WorkflowActivityContext,
  type WorkflowContext,
  WorkflowRuntime,
  WorkflowRuntimeStatus,
} from "@dapr/dapr";
import { silentLogger } from "@outrig/core";
import { inFlight, latency } from "@outrig/tools/bench";
import { createRegistry, startSidecar } from "../src/index.ts";

const WORKFLOWS = Number(process.env.BENCH_WORKFLOWS ?? 1000);
const CONCURRENCY = 64;
const POSTGRES = process.env.BENCH_POSTGRES;
const STORES = (process.env.BENCH_STATE ?? (POSTGRES ? "sqlite,postgres" : "sqlite"))
  .split(",")
  .map((s) => s.trim())
  .filter(Boolean);
for (const store of STORES) {
  if (!["sqlite", "postgres", "memory"].includes(store))
    throw new Error(`BENCH_STATE: unknown store ${store} (sqlite, postgres, memory)`);
  if (store === "postgres" && !POSTGRES)
    throw new Error("BENCH_STATE names postgres: set BENCH_POSTGRES to a postgres:// URL");
}
// The SDK's worker logs every work item at info level and has no option to lower it.
console.info = () => undefined;

// @outrig/postgres tests against the runtime, so the runtime cannot depend on it (a cycle);
// the registry resolves it from its workspace folder instead.
const registry = createRegistry({
  resolveFrom: [fileURLToPath(new URL("../../postgres/", import.meta.url))],
});

function component(store: string, dir: string): string {
  const meta = (pairs: Record<string, string>) =>
    Object.entries(pairs)
      .map(([name, value]) => `    - name: ${name}\n      value: ${JSON.stringify(value)}\n`)
      .join("");
  const [type, metadata] =
    store === "memory"
      ? ["state.in-memory", {}]
      : store === "postgres"
        ? // Its own table, so other users of the same database are not touched.
          [
            "state.postgresql",
            { connectionString: POSTGRES as string, tableName: "outrig_bench_wf" },
          ]
        : ["state.sqlite", { connectionString: join(dir, "state.db") }];
  return `apiVersion: dapr.io/v1alpha1
kind: Component
metadata:
  name: wfstore
spec:
  type: ${type}
  version: v1
  metadata:
${meta({ ...metadata, actorStateStore: "true" })}`;
}

const runs = new Map<string, number>();
const step = async (_: WorkflowActivityContext, key: string): Promise<string> => {
  runs.set(key, (runs.get(key) ?? 0) + 1);
  return key;
};
const three = async function* (
  ctx: WorkflowContext,
  id: string,
): AsyncGenerator<unknown, string[], string> {
  const out: string[] = [];
  for (let i = 0; i < 3; i++) out.push(yield ctx.callActivity(step, `${id}/${i}`));
  return out;
};

interface Figures {
  store: string;
  "workflows/s": number;
  "activities/s": number;
  "latency p50 ms": number;
  "latency p99 ms": number;
  notCompleted: number;
  activitiesRunTwice: number;
  activitiesRun: number;
  loadavg1m: number;
}

async function bench(store: string): Promise<Figures> {
  const dir = mkdtempSync(join(tmpdir(), "outrig-bench-wf-"));
  runs.clear();
  const sidecar = await startSidecar({
    // A fresh app per run: a shared store never hands this run another run's instances or jobs.
    appId: `bench-wf-${randomUUID().slice(0, 8)}`,
    httpPort: 0,
    grpcPort: 0,
    logger: silentLogger,
    registry,
    schedulerStore: store === "postgres" ? (POSTGRES as string) : join(dir, "scheduler.db"),
    resources: component(store, dir),
  });
  const options = { daprHost: "127.0.0.1", daprPort: String(sidecar.grpcPort) };
  const worker = new WorkflowRuntime(options).registerWorkflow(three).registerActivity(step);
  await worker.start();
  const client = new DaprWorkflowClient(options);
  try {
    const latencies: number[] = [];
    const ids: string[] = [];
    let failed = 0;
    const began = performance.now();
    await inFlight(WORKFLOWS, CONCURRENCY, async (i) => {
      const started = performance.now();
      const id = await client.scheduleNewWorkflow(three, `wf${i}`, `wf${i}`);
      ids.push(id);
      const state = await client.waitForWorkflowCompletion(id, true, 300);
      if (state?.runtimeStatus !== WorkflowRuntimeStatus.COMPLETED) failed++;
      latencies.push(performance.now() - started);
    });
    const seconds = (performance.now() - began) / 1000;
    const load = loadavg()[0] ?? 0;
    await inFlight(ids.length, CONCURRENCY, (i) => client.purgeWorkflow(ids[i] as string));
    const { p50, p99 } = latency(latencies);
    return {
      store:
        store === "postgres"
          ? "state.postgresql, scheduler postgresql"
          : `${store === "memory" ? "state.in-memory" : "state.sqlite"}, scheduler sqlite`,
      "workflows/s": Number((WORKFLOWS / seconds).toFixed(1)),
      "activities/s": Number(((WORKFLOWS * 3) / seconds).toFixed(1)),
      "latency p50 ms": Math.round(p50),
      "latency p99 ms": Math.round(p99),
      notCompleted: failed,
      activitiesRunTwice: [...runs.values()].filter((n) => n > 1).length,
      activitiesRun: runs.size,
      loadavg1m: Number(load.toFixed(1)),
    };
  } finally {
    await worker.stop();
    await client.stop();
    await sidecar.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

const results: Figures[] = [];
for (const store of STORES) results.push(await bench(store));
console.log(JSON.stringify({ workflows: WORKFLOWS, activities: WORKFLOWS * 3, results }, null, 2));
const ok = results.every(
  (r) => r.notCompleted === 0 && r.activitiesRunTwice === 0 && r.activitiesRun === WORKFLOWS * 3,
);
process.exit(ok ? 0 : 1);
