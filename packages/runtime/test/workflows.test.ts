// Durable workflows through the unmodified @dapr/dapr workflow SDK: WorkflowRuntime (the
// durabletask worker on GetWorkItems) and DaprWorkflowClient against the sidecar's
// TaskHubSidecarService, and the HTTP management API on the same instances.
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
import { waitUntil } from "@outrig/conformance/testing";
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
`;

const runs = new Map<string, number>();
const count = (key: string): number => {
  const n = (runs.get(key) ?? 0) + 1;
  runs.set(key, n);
  return n;
};

const hello = async (_: WorkflowActivityContext, name: string): Promise<string> => `hello ${name}`;
const square = async (_: WorkflowActivityContext, n: number): Promise<number> => n * n;
const flaky = async (_: WorkflowActivityContext, key: string): Promise<string> => {
  if (count(key) < 3) throw new Error(`flaky failure ${runs.get(key)}`);
  return `ok after ${runs.get(key)}`;
};

const chain = async function* (
  ctx: WorkflowContext,
  name: string,
): AsyncGenerator<unknown, string[], string> {
  const out: string[] = [];
  out.push(yield ctx.callActivity(hello, `${name}-1`));
  out.push(yield ctx.callActivity(hello, `${name}-2`));
  out.push(yield ctx.callActivity(hello, `${name}-3`));
  return out;
};

const fanOut = async function* (
  ctx: WorkflowContext,
  n: number,
): AsyncGenerator<unknown, number, number[]> {
  const tasks: Task<number>[] = [];
  for (let i = 1; i <= n; i++) tasks.push(ctx.callActivity(square, i));
  const squares = yield ctx.whenAll(tasks);
  return squares.reduce((a, b) => a + b, 0);
};

const sleeper = async function* (
  ctx: WorkflowContext,
  ms: number,
): AsyncGenerator<unknown, string, unknown> {
  const before = ctx.getCurrentUtcDateTime().getTime();
  yield ctx.createTimer(ms / 1000);
  return `slept ${ctx.getCurrentUtcDateTime().getTime() - before >= ms}`;
};

const approval = async function* (
  ctx: WorkflowContext,
  timeoutMs: number,
): AsyncGenerator<unknown, string, Task<unknown>> {
  const event = ctx.waitForExternalEvent("approval");
  const timeout = ctx.createTimer(timeoutMs / 1000);
  const winner = yield ctx.whenAny([event, timeout]);
  if (winner === timeout) return "timed out";
  return `approved by ${(event.getResult() as { by: string }).by}`;
};

const parent = async function* (
  ctx: WorkflowContext,
  name: string,
): AsyncGenerator<unknown, string, string[]> {
  const child = yield ctx.callChildWorkflow(chain, name);
  return `child said ${child.join(", ")}`;
};

// The JS SDK's callActivity takes no retry policy, so the workflow retries itself, the way its
// docs suggest for this SDK: the failures arrive as TaskFailed events.
const retrying = async function* (
  ctx: WorkflowContext,
  key: string,
): AsyncGenerator<unknown, string, string> {
  for (let attempt = 1; ; attempt++) {
    try {
      return yield ctx.callActivity(flaky, key);
    } catch (error) {
      if (attempt >= 5) throw error;
      yield ctx.createTimer(0.05);
    }
  }
};

// Each execution runs one activity, then starts afresh with the next number (a fresh history).
const counter = async function* (
  ctx: WorkflowContext,
  n: number,
): AsyncGenerator<unknown, string | undefined, string> {
  const greeting = yield ctx.callActivity(hello, `round ${n}`);
  if (n < 3) {
    ctx.continueAsNew(n + 1, true);
    return undefined;
  }
  return greeting;
};

const guardian = async function* (ctx: WorkflowContext): AsyncGenerator<unknown, unknown, unknown> {
  return yield ctx.callChildWorkflow(waiter, undefined, `${ctx.getWorkflowInstanceId()}-child`);
};

const waiter = async function* (ctx: WorkflowContext): AsyncGenerator<unknown, unknown, unknown> {
  const first = yield ctx.waitForExternalEvent("go");
  const second = yield ctx.waitForExternalEvent("go");
  return [first, second];
};

let home: string;
let s: Sidecar;
let worker: WorkflowRuntime;
let client: DaprWorkflowClient;

beforeAll(async () => {
  // The SDK's durabletask worker logs every work item at info level and has no option to lower it.
  vi.spyOn(console, "info").mockImplementation(() => undefined);
  home = mkdtempSync(join(tmpdir(), "outrig-wf-"));
  s = await sidecar({
    appId: "wfapp",
    grpcPort: 0,
    resources: RESOURCES,
    schedulerStore: join(home, "scheduler.db"),
    schedulerPollMs: 100,
  });
  const options = { daprHost: "127.0.0.1", daprPort: String(s.grpcPort) };
  worker = new WorkflowRuntime(options)
    .registerWorkflow(chain)
    .registerWorkflow(fanOut)
    .registerWorkflow(sleeper)
    .registerWorkflow(approval)
    .registerWorkflow(parent)
    .registerWorkflow(retrying)
    .registerWorkflow(waiter)
    .registerWorkflow(counter)
    .registerWorkflow(guardian)
    .registerActivity(hello)
    .registerActivity(square)
    .registerActivity(flaky);
  await worker.start();
  client = new DaprWorkflowClient(options);
});

afterAll(async () => {
  await worker?.stop().catch(() => undefined);
  await client?.stop().catch(() => undefined);
  await s?.stop();
  rmSync(home, { recursive: true, force: true });
});

async function completed(id: string) {
  const state = await client.waitForWorkflowCompletion(id, true, 20);
  expect(state, `workflow ${id}`).toBeDefined();
  return state as NonNullable<typeof state>;
}

describe("workflows through the Dapr SDK", () => {
  it("runs a chain of activities to its output", async () => {
    const id = await client.scheduleNewWorkflow(chain, "ada");
    const state = await completed(id);
    expect(state.runtimeStatus).toBe(WorkflowRuntimeStatus.COMPLETED);
    expect(JSON.parse(state.serializedOutput ?? "null")).toEqual([
      "hello ada-1",
      "hello ada-2",
      "hello ada-3",
    ]);
    expect(state.name).toBe("chain");
  });

  it("fans out 20 activities and fans their results in", async () => {
    const id = await client.scheduleNewWorkflow(fanOut, 20);
    const state = await completed(id);
    expect(state.runtimeStatus).toBe(WorkflowRuntimeStatus.COMPLETED);
    expect(JSON.parse(state.serializedOutput ?? "0")).toBe(2870);
  });

  it("waits on a durable timer", async () => {
    const began = Date.now();
    const id = await client.scheduleNewWorkflow(sleeper, 500);
    const state = await completed(id);
    expect(JSON.parse(state.serializedOutput ?? "null")).toBe("slept true");
    expect(Date.now() - began).toBeGreaterThanOrEqual(500);
  });

  it("takes an external event, and times out without one", async () => {
    const approved = await client.scheduleNewWorkflow(approval, 10_000);
    await client.waitForWorkflowStart(approved, false, 10);
    await client.raiseEvent(approved, "approval", { by: "grace" });
    expect(JSON.parse((await completed(approved)).serializedOutput ?? "null")).toBe(
      "approved by grace",
    );
    const unanswered = await client.scheduleNewWorkflow(approval, 300);
    expect(JSON.parse((await completed(unanswered)).serializedOutput ?? "null")).toBe("timed out");
  });

  it("runs a child workflow and gets its output", async () => {
    const id = await client.scheduleNewWorkflow(parent, "kid");
    const state = await completed(id);
    expect(state.runtimeStatus).toBe(WorkflowRuntimeStatus.COMPLETED);
    expect(JSON.parse(state.serializedOutput ?? "null")).toBe(
      "child said hello kid-1, hello kid-2, hello kid-3",
    );
  });

  it("retries a failing activity until it succeeds", async () => {
    const id = await client.scheduleNewWorkflow(retrying, "flaky-1");
    const state = await completed(id);
    expect(state.runtimeStatus).toBe(WorkflowRuntimeStatus.COMPLETED);
    expect(JSON.parse(state.serializedOutput ?? "null")).toBe("ok after 3");
    expect(runs.get("flaky-1")).toBe(3);
  });

  it("suspends, resumes, terminates and purges", async () => {
    const id = await client.scheduleNewWorkflow(waiter);
    await client.waitForWorkflowStart(id, false, 10);
    await client.suspendWorkflow(id);
    await waitUntil(
      async () =>
        (await client.getWorkflowState(id, false))?.runtimeStatus ===
        WorkflowRuntimeStatus.SUSPENDED,
      5000,
      "suspended",
    );
    // An event to a suspended workflow waits for the resume.
    await client.raiseEvent(id, "go", 1);
    await new Promise((r) => setTimeout(r, 200));
    expect((await client.getWorkflowState(id, false))?.runtimeStatus).toBe(
      WorkflowRuntimeStatus.SUSPENDED,
    );
    await client.resumeWorkflow(id);
    await client.raiseEvent(id, "go", 2);
    expect(JSON.parse((await completed(id)).serializedOutput ?? "null")).toEqual([1, 2]);

    const doomed = await client.scheduleNewWorkflow(waiter);
    await client.waitForWorkflowStart(doomed, false, 10);
    await client.terminateWorkflow(doomed, "enough");
    const ended = await completed(doomed);
    expect(ended.runtimeStatus).toBe(WorkflowRuntimeStatus.TERMINATED);
    expect(await client.purgeWorkflow(doomed)).toBe(true);
    expect(await client.getWorkflowState(doomed, false)).toBeUndefined();
  });

  it("continues as new: each execution starts from a fresh history with the new input", async () => {
    const id = await client.scheduleNewWorkflow(counter, 1);
    const state = await completed(id);
    expect(state.runtimeStatus).toBe(WorkflowRuntimeStatus.COMPLETED);
    expect(JSON.parse(state.serializedOutput ?? "null")).toBe("hello round 3");
    expect(JSON.parse(state.serializedInput ?? "null")).toBe(3);
  });

  it("fails a workflow nobody registered, naming it, and refuses a reused instance id", async () => {
    const id = await client.scheduleNewWorkflow("nosuchworkflow", undefined, "unknown-1");
    const state = await completed(id);
    expect(state.runtimeStatus).toBe(WorkflowRuntimeStatus.FAILED);
    expect(state.workflowFailureDetails?.getErrorMessage()).toContain("nosuchworkflow");
    await expect(client.scheduleNewWorkflow(chain, "x", "unknown-1")).rejects.toThrow(
      /already exists/,
    );
  });
});

describe("the HTTP workflow API", () => {
  const api = (path: string, init?: RequestInit) => fetch(`${s.url}${path}`, init);

  it("starts, reads, raises an event on, pauses, resumes and purges an instance", async () => {
    for (const version of ["v1.0", "v1.0-beta1"]) {
      const id = `http_${version.replace(/\W/g, "")}`;
      const started = await api(`/${version}/workflows/dapr/waiter/start?instanceID=${id}`, {
        method: "POST",
      });
      expect(started.status).toBe(202);
      expect(await started.json()).toEqual({ instanceID: id });
      await waitUntil(
        async () =>
          (
            (await (await api(`/${version}/workflows/dapr/${id}`)).json()) as {
              runtimeStatus: string;
            }
          ).runtimeStatus === "RUNNING",
        5000,
        "running",
      );
      expect((await api(`/${version}/workflows/dapr/${id}/pause`, { method: "POST" })).status).toBe(
        202,
      );
      await waitUntil(
        async () =>
          (
            (await (await api(`/${version}/workflows/dapr/${id}`)).json()) as {
              runtimeStatus: string;
            }
          ).runtimeStatus === "SUSPENDED",
        5000,
        "suspended",
      );
      expect(
        (await api(`/${version}/workflows/dapr/${id}/resume`, { method: "POST" })).status,
      ).toBe(202);
      for (const n of [1, 2]) {
        const raised = await api(`/${version}/workflows/dapr/${id}/raiseEvent/go`, {
          method: "POST",
          body: JSON.stringify({ n }),
        });
        expect(raised.status).toBe(202);
      }
      const done = await completed(id);
      expect(JSON.parse(done.serializedOutput ?? "null")).toEqual([{ n: 1 }, { n: 2 }]);
      const got = await api(`/${version}/workflows/dapr/${id}`);
      expect(got.status).toBe(200);
      const body = (await got.json()) as Record<string, unknown>;
      expect(body).toMatchObject({
        instanceID: id,
        workflowName: "waiter",
        runtimeStatus: "COMPLETED",
        properties: { "dapr.workflow.output": JSON.stringify([{ n: 1 }, { n: 2 }]) },
      });
      expect(Date.parse(body.createdAt as string)).toBeLessThanOrEqual(
        Date.parse(body.lastUpdatedAt as string),
      );
      expect((await api(`/${version}/workflows/dapr/${id}/purge`, { method: "POST" })).status).toBe(
        202,
      );
      expect((await api(`/${version}/workflows/dapr/${id}`)).status).toBe(404);
    }
  });

  it("terminates over HTTP, with the input passed as the body", async () => {
    const started = await api("/v1.0/workflows/dapr/chain/start", {
      method: "POST",
      body: '"http"',
    });
    const { instanceID } = (await started.json()) as { instanceID: string };
    expect((await completed(instanceID)).serializedOutput).toBe(
      JSON.stringify(["hello http-1", "hello http-2", "hello http-3"]),
    );
    const id = "http_terminated";
    await api(`/v1.0/workflows/dapr/waiter/start?instanceID=${id}`, { method: "POST" });
    expect((await api(`/v1.0/workflows/dapr/${id}/terminate`, { method: "POST" })).status).toBe(
      202,
    );
    expect((await completed(id)).runtimeStatus).toBe(WorkflowRuntimeStatus.TERMINATED);
  });

  it("terminates the children of a terminated workflow unless non_recursive", async () => {
    for (const [id, query, child] of [
      ["http_guardian", "", WorkflowRuntimeStatus.TERMINATED],
      ["http_lone_guardian", "?non_recursive=true", WorkflowRuntimeStatus.RUNNING],
    ] as const) {
      await api(`/v1.0/workflows/dapr/guardian/start?instanceID=${id}`, { method: "POST" });
      await client.waitForWorkflowStart(`${id}-child`, false, 10);
      await waitUntil(
        async () =>
          (await client.getWorkflowState(`${id}-child`, false))?.runtimeStatus ===
          WorkflowRuntimeStatus.RUNNING,
        5000,
        "the child runs",
      );
      expect(
        (await api(`/v1.0/workflows/dapr/${id}/terminate${query}`, { method: "POST" })).status,
      ).toBe(202);
      expect((await completed(id)).runtimeStatus).toBe(WorkflowRuntimeStatus.TERMINATED);
      if (child === WorkflowRuntimeStatus.TERMINATED) {
        expect((await completed(`${id}-child`)).runtimeStatus).toBe(child);
      } else {
        await new Promise((r) => setTimeout(r, 200));
        expect((await client.getWorkflowState(`${id}-child`, false))?.runtimeStatus).toBe(child);
        await client.terminateWorkflow(`${id}-child`, undefined);
      }
    }
  });

  it("answers bad input with Dapr's errors", async () => {
    const error = async (res: Response) => ({
      status: res.status,
      ...((await res.json()) as object),
    });
    expect(await error(await api("/v1.0/workflows/dapr/nosuch-id"))).toMatchObject({
      status: 404,
      errorCode: "ERR_INSTANCE_ID_NOT_FOUND",
    });
    expect(
      await error(await api("/v1.0/workflows/other/wf/start", { method: "POST" })),
    ).toMatchObject({
      status: 400,
      errorCode: "ERR_WORKFLOW_COMPONENT_NOT_FOUND",
    });
    expect(
      await error(
        await api("/v1.0/workflows/dapr/wf/start?instanceID=bad%20id", { method: "POST" }),
      ),
    ).toMatchObject({ status: 400, errorCode: "ERR_INSTANCE_ID_INVALID" });
    expect(
      await error(
        await api(`/v1.0/workflows/dapr/wf/start?instanceID=${"x".repeat(65)}`, { method: "POST" }),
      ),
    ).toMatchObject({ status: 400, errorCode: "ERR_INSTANCE_ID_TOO_LONG" });
    await api("/v1.0/workflows/dapr/waiter/start?instanceID=dup_1", { method: "POST" });
    expect(
      await error(
        await api("/v1.0/workflows/dapr/waiter/start?instanceID=dup_1", { method: "POST" }),
      ),
    ).toMatchObject({ status: 500, errorCode: "ERR_START_WORKFLOW" });
    expect(
      await error(await api("/v1.0/workflows/dapr/dup_1/purge", { method: "POST" })),
    ).toMatchObject({ status: 500, errorCode: "ERR_PURGE_WORKFLOW" });
    expect(
      await error(await api("/v1.0/workflows/dapr/nosuch-id/raiseEvent/x", { method: "POST" })),
    ).toMatchObject({
      status: 404,
      errorCode: "ERR_INSTANCE_ID_NOT_FOUND",
    });
    await api("/v1.0/workflows/dapr/dup_1/terminate", { method: "POST" });
  });

  it("without an actor state store says what is missing", async () => {
    const bare = await sidecar({
      appId: "wf-bare",
      grpcPort: 0,
      schedulerStore: join(home, "bare.db"),
    });
    try {
      const res = await fetch(`${bare.url}/v1.0/workflows/dapr/wf/start`, { method: "POST" });
      expect(res.status).toBe(500);
      const body = (await res.json()) as { errorCode: string; message: string };
      expect(body.errorCode).toBe("ERR_WORKFLOW_COMPONENT_MISSING");
      expect(body.message).toContain("actorStateStore");
    } finally {
      await bare.stop();
    }
  });
});
