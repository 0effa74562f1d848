// TaskHubSidecarService spoken by hand (as a worker would): a work item held by a stream that
// drops goes to the next stream, a result that comes twice is recorded once, and the
// dapr-api-token is checked as on the Dapr service.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as grpc from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { HistoryEvent__Output } from "../src/grpc/generated/HistoryEvent.ts";
import type { WorkItem__Output } from "../src/grpc/generated/WorkItem.ts";
import { taskHubProtos } from "../src/grpc/protos.ts";
import type { Sidecar } from "../src/index.ts";
import { sidecar } from "./helpers.ts";

const TOKEN = "wf-token";
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

type Client = grpc.Client & Record<string, (...args: unknown[]) => unknown>;

let home: string;
let s: Sidecar;
let client: Client;

function call<T>(method: string, request: unknown, token = TOKEN): Promise<T> {
  const metadata = new grpc.Metadata();
  if (token) metadata.set("dapr-api-token", token);
  return new Promise((resolve, reject) =>
    (client[method] as (...a: unknown[]) => void)(
      request,
      metadata,
      (error: Error | null, reply: T) => (error ? reject(error) : resolve(reply)),
    ),
  );
}

/** A GetWorkItems stream whose items are read one at a time. */
function workItems() {
  const metadata = new grpc.Metadata();
  metadata.set("dapr-api-token", TOKEN);
  const stream = (
    client.GetWorkItems as (
      r: unknown,
      m: grpc.Metadata,
    ) => grpc.ClientReadableStream<WorkItem__Output>
  )({}, metadata);
  const items: WorkItem__Output[] = [];
  const waiting: ((item: WorkItem__Output) => void)[] = [];
  stream.on("data", (item: WorkItem__Output) => {
    const next = waiting.shift();
    if (next) next(item);
    else items.push(item);
  });
  stream.on("error", () => undefined);
  return {
    next: (): Promise<WorkItem__Output> => {
      const item = items.shift();
      if (item) return Promise.resolve(item);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error("no work item within 5 s")), 5000);
        waiting.push((i) => {
          clearTimeout(timer);
          resolve(i);
        });
      });
    },
    cancel: () => stream.cancel(),
  };
}

beforeAll(async () => {
  home = mkdtempSync(join(tmpdir(), "outrig-wf-proto-"));
  s = await sidecar({
    appId: "wfproto",
    grpcPort: 0,
    apiToken: TOKEN,
    resources: RESOURCES,
    schedulerStore: join(home, "scheduler.db"),
  });
  const Ctor = grpc.makeGenericClientConstructor(taskHubProtos().service, "TaskHubSidecarService");
  client = new Ctor(
    `127.0.0.1:${s.grpcPort}`,
    grpc.credentials.createInsecure(),
  ) as unknown as Client;
});

afterAll(async () => {
  client?.close();
  await s?.stop();
  rmSync(home, { recursive: true, force: true });
});

describe("TaskHubSidecarService", () => {
  it("refuses a call without the dapr-api-token", async () => {
    await expect(call("Hello", {}, "")).rejects.toMatchObject({
      code: grpc.status.UNAUTHENTICATED,
    });
    await expect(call("Hello", {})).resolves.toEqual({});
  });

  it("gives a dropped stream's activity to the next stream and records its result once", async () => {
    const { instanceId } = await call<{ instanceId: string }>("StartInstance", {
      name: "byhand",
      instanceId: "by-hand-1",
      input: { value: '"in"' },
    });
    expect(instanceId).toBe("by-hand-1");
    const first = workItems();
    const turn = await first.next();
    expect(turn.orchestratorRequest?.instanceId).toBe(instanceId);
    expect(turn.orchestratorRequest?.newEvents.map((e) => e.eventType)).toEqual([
      "orchestratorStarted",
      "executionStarted",
    ]);
    await call("CompleteOrchestratorTask", {
      instanceId,
      actions: [{ id: 1, scheduleTask: { name: "double", input: { value: "21" } } }],
    });
    const activity = await first.next();
    expect(activity.activityRequest).toMatchObject({ name: "double", taskId: 1 });
    first.cancel(); // the worker dies holding the activity

    const second = workItems();
    const again = await second.next();
    expect(again.activityRequest).toMatchObject({
      name: "double",
      taskId: 1,
      input: { value: "21" },
    });
    await call("CompleteActivityTask", { instanceId, taskId: 1, result: { value: "42" } });
    await call("CompleteActivityTask", { instanceId, taskId: 1, result: { value: "43" } });
    const resumed = await second.next();
    const past = resumed.orchestratorRequest?.pastEvents ?? [];
    expect(past.filter((e) => e.taskScheduled)).toHaveLength(1);
    const fresh = resumed.orchestratorRequest?.newEvents ?? [];
    expect(fresh.filter((e) => e.taskCompleted).map((e) => e.taskCompleted?.result?.value)).toEqual(
      ["42"],
    );
    await call("CompleteOrchestratorTask", {
      instanceId,
      actions: [
        {
          id: 2,
          completeOrchestration: {
            orchestrationStatus: "ORCHESTRATION_STATUS_COMPLETED",
            result: { value: "42" },
          },
        },
      ],
    });
    const done = await call<{
      exists: boolean;
      orchestrationState: { orchestrationStatus: string; output: { value: string } };
    }>("WaitForInstanceCompletion", { instanceId, getInputsAndOutputs: true });
    expect(done.exists).toBe(true);
    expect(done.orchestrationState.orchestrationStatus).toBe("ORCHESTRATION_STATUS_COMPLETED");
    expect(done.orchestrationState.output.value).toBe("42");
    second.cancel();
  });

  it("answers what it does not serve by name, and a missing instance as absent", async () => {
    await expect(call("QueryInstances", { query: {} })).rejects.toMatchObject({
      code: grpc.status.UNIMPLEMENTED,
      details: expect.stringContaining("QueryInstances"),
    });
    await expect(
      call("PurgeInstances", { purgeInstanceFilter: { runtimeStatus: [] } }),
    ).rejects.toMatchObject({
      code: grpc.status.UNIMPLEMENTED,
      details: expect.stringContaining("filter"),
    });
    await expect(call("GetInstance", { instanceId: "nobody" })).resolves.toMatchObject({
      exists: false,
    });
    await expect(call("RaiseEvent", { instanceId: "nobody", name: "e" })).rejects.toMatchObject({
      code: grpc.status.NOT_FOUND,
    });
  });
});

// The methods newer SDKs call, spliced into the durabletask .proto (scripts/durabletask-additions.ts).
describe("TaskHubSidecarService: CompleteWorkflowTask, ListInstanceIDs, GetInstanceHistory", () => {
  /** Runs one instance by hand to completion, its turns answered with CompleteWorkflowTask. */
  async function runWithCompleteWorkflowTask(instanceId: string): Promise<void> {
    await call("StartInstance", { name: "newer", instanceId, input: { value: '"x"' } });
    const worker = workItems();
    try {
      const first = await worker.next();
      expect(first.orchestratorRequest?.instanceId).toBe(instanceId);
      await call("CompleteWorkflowTask", {
        instanceId,
        actions: [{ id: 1, scheduleTask: { name: "echo", input: { value: '"x"' } } }],
      });
      const activity = await worker.next();
      expect(activity.activityRequest).toMatchObject({ name: "echo", taskId: 1 });
      await call("CompleteActivityTask", { instanceId, taskId: 1, result: { value: '"x!"' } });
      const second = await worker.next();
      expect(second.orchestratorRequest?.newEvents.some((e) => e.taskCompleted)).toBe(true);
      await call("CompleteWorkflowTask", {
        instanceId,
        actions: [
          {
            id: 2,
            completeOrchestration: {
              orchestrationStatus: "ORCHESTRATION_STATUS_COMPLETED",
              result: { value: '"x!"' },
            },
          },
        ],
      });
      const done = await call<{ orchestrationState: { orchestrationStatus: string } }>(
        "WaitForInstanceCompletion",
        { instanceId },
      );
      expect(done.orchestrationState.orchestrationStatus).toBe("ORCHESTRATION_STATUS_COMPLETED");
    } finally {
      worker.cancel();
    }
  }

  it("CompleteWorkflowTask answers a turn as CompleteOrchestratorTask does; GetInstanceHistory gives the committed history", async () => {
    await runWithCompleteWorkflowTask("newer-1");
    const { events } = await call<{ events: HistoryEvent__Output[] }>("GetInstanceHistory", {
      instanceId: "newer-1",
    });
    expect(events.map((e) => e.eventType)).toEqual([
      "orchestratorStarted",
      "executionStarted",
      "taskScheduled",
      "orchestratorCompleted",
      "orchestratorStarted",
      "taskCompleted",
      "executionCompleted",
      "orchestratorCompleted",
    ]);
    expect(events[1]?.executionStarted).toMatchObject({ name: "newer", input: { value: '"x"' } });
    expect(events[2]?.taskScheduled).toMatchObject({ name: "echo" });
    expect(events[5]?.taskCompleted).toMatchObject({
      taskScheduledId: 1,
      result: { value: '"x!"' },
    });
    expect(events[6]?.executionCompleted).toMatchObject({
      orchestrationStatus: "ORCHESTRATION_STATUS_COMPLETED",
      result: { value: '"x!"' },
    });
    await expect(call("GetInstanceHistory", { instanceId: "nobody" })).rejects.toMatchObject({
      code: grpc.status.NOT_FOUND,
      details: expect.stringContaining("nobody"),
    });
  });

  it("ListInstanceIDs lists every instance of the app, all at once or page by page", async () => {
    for (const id of ["list_a", "list%b", "list-c"]) {
      await call("StartInstance", { name: "listed", instanceId: id });
    }
    const all = await call<{ instanceIds: string[]; continuationToken?: string }>(
      "ListInstanceIDs",
      {},
    );
    expect(all.instanceIds).toEqual(
      expect.arrayContaining(["by-hand-1", "newer-1", "list_a", "list%b", "list-c"]),
    );
    expect(all.continuationToken).toBeUndefined();
    const paged: string[] = [];
    let token: string | undefined;
    let pages = 0;
    do {
      const page = await call<{ instanceIds: string[]; continuationToken?: string }>(
        "ListInstanceIDs",
        { pageSize: 2, ...(token ? { continuationToken: token } : {}) },
      );
      expect(page.instanceIds.length).toBeLessThanOrEqual(2);
      paged.push(...page.instanceIds);
      token = page.continuationToken;
      pages++;
    } while (token && pages < 20);
    expect(pages).toBe(Math.ceil(all.instanceIds.length / 2));
    expect(paged.sort()).toEqual([...all.instanceIds].sort());
    for (const id of ["list_a", "list%b", "list-c"]) {
      await call("TerminateInstance", { instanceId: id });
    }
  });
});
