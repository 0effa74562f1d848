// The Configuration's workflow limits (maxConcurrentWorkflowInvocations,
// maxConcurrentActivityInvocations) through the unmodified @dapr/dapr workflow SDK: a fan-out of
// slow activities never has more than the limit running at once, and every workflow completes.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  DaprWorkflowClient,
  type Task,
  type WorkflowActivityContext,
  type WorkflowContext,
  WorkflowRuntime,
  WorkflowRuntimeStatus,
} from "@dapr/dapr";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import type { Sidecar } from "../src/index.ts";
import { sidecar } from "./helpers.ts";

const RESOURCES = `
apiVersion: dapr.io/v1alpha1
kind: Component
metadata:
  name: wfstore
spec:
  type: state.in-memory
  version: v1
  metadata:
    - name: actorStateStore
      value: "true"
---
apiVersion: dapr.io/v1alpha1
kind: Configuration
metadata:
  name: limits
spec:
  workflow:
    maxConcurrentWorkflowInvocations: 1
    maxConcurrentActivityInvocations: 2
`;

let running = 0;
let most = 0;
const slow = async (_: WorkflowActivityContext, n: number): Promise<number> => {
  running++;
  most = Math.max(most, running);
  // Long enough that, unlimited, all six would be running together.
  await new Promise((r) => setTimeout(r, 150));
  running--;
  return n;
};

const fanOut = async function* (
  ctx: WorkflowContext,
  n: number,
): AsyncGenerator<unknown, number, number[]> {
  const tasks: Task<number>[] = [];
  for (let i = 1; i <= n; i++) tasks.push(ctx.callActivity(slow, i));
  const all = yield ctx.whenAll(tasks);
  return all.reduce((a, b) => a + b, 0);
};

let home: string;
let s: Sidecar;
let worker: WorkflowRuntime;
let client: DaprWorkflowClient;

beforeAll(async () => {
  // The SDK's durabletask worker logs every work item at info level and has no option to lower it.
  vi.spyOn(console, "info").mockImplementation(() => undefined);
  home = mkdtempSync(join(tmpdir(), "outrig-wf-limits-"));
  s = await sidecar({
    appId: "wflimits",
    grpcPort: 0,
    resources: RESOURCES,
    schedulerStore: join(home, "scheduler.db"),
    schedulerPollMs: 100,
  });
  const options = { daprHost: "127.0.0.1", daprPort: String(s.grpcPort) };
  worker = new WorkflowRuntime(options).registerWorkflow(fanOut).registerActivity(slow);
  await worker.start();
  client = new DaprWorkflowClient(options);
});

afterAll(async () => {
  await worker?.stop().catch(() => undefined);
  await client?.stop().catch(() => undefined);
  await s?.stop();
  rmSync(home, { recursive: true, force: true });
});

describe("workflow limits from the Configuration", () => {
  it("runs at most maxConcurrentActivityInvocations activities at once, and every workflow to completion under maxConcurrentWorkflowInvocations", async () => {
    const ids = await Promise.all([
      client.scheduleNewWorkflow(fanOut, 6),
      client.scheduleNewWorkflow(fanOut, 6),
    ]);
    for (const id of ids) {
      const state = await client.waitForWorkflowCompletion(id, undefined, 30);
      expect(state?.runtimeStatus).toBe(WorkflowRuntimeStatus.COMPLETED);
      expect(state?.serializedOutput).toBe("21");
    }
    expect(most).toBe(2);
  }, 40_000);
});
