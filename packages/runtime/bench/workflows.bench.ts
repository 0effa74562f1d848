// Workflow throughput: BENCH_WORKFLOWS (default 1,000) workflows of 3 activities each, started
// 64 at a time through the unmodified @dapr/dapr DaprWorkflowClient and run by its
// WorkflowRuntime (in this process) against a sidecar whose actor state store is SQLite
// (BENCH_STATE=memory for state.in-memory, to see what the store costs) and whose scheduler is
// SQLite too (BENCH_SCHEDULER_STORE, e.g. a postgres:// URL, for that one).
// Prints workflows/s, activities/s and the start-to-completion latency p50/p99, and checks that
// none was lost and none ran an activity twice.
// Run: pnpm --filter @outrig/runtime bench:workflows
import { mkdtempSync, rmSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import {
  DaprWorkflowClient,
  type WorkflowActivityContext,
  type WorkflowContext,
  WorkflowRuntime,
  WorkflowRuntimeStatus,
} from "@dapr/dapr";
import { silentLogger } from "@outrig/core";
import { inFlight, latency } from "@outrig/tools/bench";
import { startSidecar } from "../src/index.ts";

const WORKFLOWS = Number(process.env.BENCH_WORKFLOWS ?? 1000);
const CONCURRENCY = 64;
const MEMORY = process.env.BENCH_STATE === "memory";
const dir = mkdtempSync(join(tmpdir(), "outrig-bench-wf-"));
// The SDK's worker logs every work item at info level and has no option to lower it.
console.info = () => undefined;

const sidecar = await startSidecar({
  appId: "bench-wf",
  httpPort: 0,
  grpcPort: 0,
  logger: silentLogger,
  schedulerStore: process.env.BENCH_SCHEDULER_STORE ?? join(dir, "scheduler.db"),
  resources: `
apiVersion: dapr.io/v1alpha1
kind: Component
metadata:
  name: wfstore
spec:
  type: ${MEMORY ? "state.in-memory" : "state.sqlite"}
  version: v1
  metadata:
${MEMORY ? "" : `    - name: connectionString\n      value: ${JSON.stringify(join(dir, "state.db"))}\n`}    - name: actorStateStore
      value: "true"
`,
});

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

const options = { daprHost: "127.0.0.1", daprPort: String(sidecar.grpcPort) };
const worker = new WorkflowRuntime(options).registerWorkflow(three).registerActivity(step);
await worker.start();
const client = new DaprWorkflowClient(options);

const latencies: number[] = [];
let failed = 0;
const began = performance.now();
await inFlight(WORKFLOWS, CONCURRENCY, async (i) => {
  const started = performance.now();
  const id = await client.scheduleNewWorkflow(three, `wf${i}`, `wf${i}`);
  const state = await client.waitForWorkflowCompletion(id, true, 300);
  if (state?.runtimeStatus !== WorkflowRuntimeStatus.COMPLETED) failed++;
  latencies.push(performance.now() - started);
});
const seconds = (performance.now() - began) / 1000;
const twice = [...runs.values()].filter((n) => n > 1).length;
const { p50, p99 } = latency(latencies);

console.log(
  JSON.stringify(
    {
      workflows: WORKFLOWS,
      activities: WORKFLOWS * 3,
      store: `${MEMORY ? "state.in-memory" : "state.sqlite"}, scheduler ${process.env.BENCH_SCHEDULER_STORE ? "custom" : "sqlite"}`,
      "workflows/s": Number((WORKFLOWS / seconds).toFixed(1)),
      "activities/s": Number(((WORKFLOWS * 3) / seconds).toFixed(1)),
      "latency p50 ms": Math.round(p50),
      "latency p99 ms": Math.round(p99),
      notCompleted: failed,
      activitiesRunTwice: twice,
      activitiesRun: runs.size,
      loadavg1m: Number((loadavg()[0] ?? 0).toFixed(1)),
    },
    null,
    2,
  ),
);
await worker.stop();
await client.stop();
await sidecar.stop();
rmSync(dir, { recursive: true, force: true });
process.exit(failed === 0 && twice === 0 && runs.size === WORKFLOWS * 3 ? 0 : 1);
