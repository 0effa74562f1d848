// The Jobs API over gRPC (stable and …Alpha1 methods) with a plain @grpc/grpc-js client, and job
// triggers to apps served over gRPC: one with AppCallback.OnJobEvent, one with only
// AppCallbackAlpha.OnJobEventAlpha1 (the fallback), and the unmodified @dapr/dapr DaprServer.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CommunicationProtocolEnum, DaprServer, LogLevel } from "@dapr/dapr";
import * as grpc from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { anyValueJson, jsonToAny } from "../src/grpc/jobs.ts";
import { daprProtos } from "../src/grpc/protos.ts";
import type { Sidecar } from "../src/index.ts";
import { freePort, sidecar, until } from "./helpers.ts";

const dir = mkdtempSync(join(tmpdir(), "outrig-jobs-grpc-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface JobEvent {
  name: string;
  data: { type_url: string; value: Buffer } | null;
  method: string;
  via: string;
  at: number;
}

/** A gRPC app: serves `methods` ("stable": AppCallback.OnJobEvent, "alpha": OnJobEventAlpha1). */
async function grpcApp(methods: ("stable" | "alpha")[]) {
  const { appCallback } = daprProtos();
  const alpha = appCallback.dapr.proto.runtime.v1.AppCallbackAlpha.service;
  const events: JobEvent[] = [];
  const handler =
    (via: string) =>
    (
      call: grpc.ServerUnaryCall<Omit<JobEvent, "via" | "at">, unknown>,
      cb: grpc.sendUnaryData<unknown>,
    ) => {
      events.push({ ...call.request, via, at: Date.now() });
      cb(null, {});
    };
  const server = new grpc.Server();
  if (methods.includes("alpha")) server.addService(alpha, { OnJobEventAlpha1: handler("alpha") });
  if (methods.includes("stable")) {
    server.addService(
      {
        OnJobEvent: {
          ...alpha.OnJobEventAlpha1,
          path: "/dapr.proto.runtime.v1.AppCallback/OnJobEvent",
          originalName: "onJobEvent",
        },
      } as grpc.ServiceDefinition,
      { OnJobEvent: handler("stable") },
    );
  }
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (e, p) =>
      e ? reject(e) : resolve(p),
    ),
  );
  return { port, events, close: () => server.forceShutdown() };
}

/** Calls a Dapr method by name; the stable Jobs names go over the `…Alpha1` messages. */
function call(s: Sidecar, method: string, request: unknown): Promise<Record<string, unknown>> {
  const { dapr } = daprProtos();
  const service = dapr.dapr.proto.runtime.v1.Dapr.service;
  const def = service[method] ?? service[`${method}Alpha1`];
  if (!def) throw new Error(`no method ${method}`);
  const client = new grpc.Client(`127.0.0.1:${s.grpcPort}`, grpc.credentials.createInsecure());
  return new Promise((resolve, reject) => {
    client.makeUnaryRequest(
      def.path.replace(/Alpha1$/, method.endsWith("Alpha1") ? "Alpha1" : ""),
      def.requestSerialize,
      def.responseDeserialize,
      request,
      (error, response) => {
        client.close();
        error ? reject(error) : resolve(response as Record<string, unknown>);
      },
    );
  });
}

async function failure(s: Sidecar, method: string, request: unknown): Promise<grpc.ServiceError> {
  try {
    await call(s, method, request);
  } catch (error) {
    return error as grpc.ServiceError;
  }
  throw new Error(`${method} succeeded`);
}

describe("Jobs over gRPC, triggered to an app with AppCallback.OnJobEvent", () => {
  let app: Awaited<ReturnType<typeof grpcApp>>;
  let s: Sidecar;
  beforeAll(async () => {
    app = await grpcApp(["stable", "alpha"]);
    s = await sidecar({
      appId: "jobs-grpc",
      appPort: app.port,
      appProtocol: "grpc",
      grpcPort: 0,
      schedulerStore: join(dir, "a.db"),
    });
    await s.ready();
  });
  afterAll(async () => {
    await s.stop();
    app.close();
  });

  it("ScheduleJob (stable) stores the job; the app gets OnJobEvent with its data at or after the due time", async () => {
    const due = Date.now() + 700;
    await call(s, "ScheduleJob", {
      job: { name: "g1", dueTime: new Date(due).toISOString(), data: jsonToAny('{"n":1}') },
    });
    const got = (await call(s, "GetJob", { name: "g1" })) as {
      job: { name: string; dueTime: string; data: { type_url: string; value: Buffer } };
    };
    expect(got.job.name).toBe("g1");
    expect(got.job.dueTime).toBe(new Date(due).toISOString());
    expect(anyValueJson({ typeUrl: got.job.data.type_url, value: got.job.data.value })).toEqual({
      n: 1,
    });
    const [e] = await until(() => (app.events.length ? app.events : undefined), 5000);
    expect(e?.via).toBe("stable");
    expect(e?.name).toBe("g1");
    expect(e?.method).toBe("job/g1");
    expect(e?.at).toBeGreaterThanOrEqual(due);
    expect(
      anyValueJson({ typeUrl: e?.data?.type_url ?? "", value: e?.data?.value ?? Buffer.alloc(0) }),
    ).toEqual({ n: 1 });
    const missing = await failure(s, "GetJobAlpha1", { name: "g1" });
    expect(missing.code).toBe(grpc.status.NOT_FOUND);
  });

  it("ListJobs and DeleteJobsByPrefix (both forms) see only this app's jobs", async () => {
    for (const name of ["batch-1", "batch-2", "keep"]) {
      await call(s, "ScheduleJobAlpha1", { job: { name, schedule: "@daily" } });
    }
    const listed = (await call(s, "ListJobsAlpha1", {})) as { jobs: { name: string }[] };
    expect(listed.jobs.map((j) => j.name).sort()).toEqual(["batch-1", "batch-2", "keep"]);
    await call(s, "DeleteJobsByPrefixAlpha1", { namePrefix: "batch-" });
    const after = (await call(s, "ListJobs", {})) as { jobs: { name: string; schedule: string }[] };
    expect(after.jobs.map((j) => j.name)).toEqual(["keep"]);
    expect(after.jobs[0]?.schedule).toBe("@daily");
    await call(s, "DeleteJob", { name: "keep" });
    expect(((await call(s, "ListJobs", {})) as { jobs: unknown[] }).jobs).toHaveLength(0);
  });

  it("a job scheduled over HTTP reads back over gRPC as a google.protobuf.Value", async () => {
    const r = await fetch(`${s.url}/v1.0/jobs/from-http`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ schedule: "@hourly", data: { a: [1, "b", null, true] } }),
    });
    expect(r.status).toBe(204);
    const got = (await call(s, "GetJob", { name: "from-http" })) as {
      job: { data: { type_url: string; value: Buffer } };
    };
    expect(got.job.data.type_url).toBe("type.googleapis.com/google.protobuf.Value");
    expect(anyValueJson({ typeUrl: got.job.data.type_url, value: got.job.data.value })).toEqual({
      a: [1, "b", null, true],
    });
    await call(s, "DeleteJob", { name: "from-http" });
  });

  it("bad input has Dapr's statuses and ErrorInfo reasons", async () => {
    const cases: [string, unknown, grpc.status, string][] = [
      ["ScheduleJob", {}, grpc.status.INVALID_ARGUMENT, "Job is empty"],
      [
        "ScheduleJob",
        { job: { name: "", dueTime: "1s" } },
        grpc.status.INVALID_ARGUMENT,
        "Name is empty",
      ],
      [
        "ScheduleJobAlpha1",
        { job: { name: "x" } },
        grpc.status.INVALID_ARGUMENT,
        "Schedule is empty",
      ],
      [
        "ScheduleJob",
        { job: { name: "x", schedule: "@sometimes" } },
        grpc.status.INVALID_ARGUMENT,
        "descriptor",
      ],
      [
        "ScheduleJob",
        { job: { name: "x", dueTime: "later" } },
        grpc.status.INVALID_ARGUMENT,
        "dueTime",
      ],
      ["GetJob", { name: "nope" }, grpc.status.NOT_FOUND, "job not found: nope"],
    ];
    for (const [method, request, code, text] of cases) {
      const e = await failure(s, method, request);
      expect({ method, code: e.code }).toEqual({ method, code });
      expect(e.details).toContain(text);
    }
    await call(s, "ScheduleJob", { job: { name: "twice", schedule: "@daily" } });
    const exists = await failure(s, "ScheduleJob", { job: { name: "twice", schedule: "@daily" } });
    expect(exists.code).toBe(grpc.status.ALREADY_EXISTS);
    const details = exists.metadata.get("grpc-status-details-bin")[0] as Buffer;
    expect(details.toString("latin1")).toContain("DAPR_SCHEDULER_SCHEDULE_JOB");
    await call(s, "ScheduleJob", { job: { name: "twice", schedule: "@hourly" }, overwrite: true });
    const got = (await call(s, "GetJob", { name: "twice" })) as { job: { schedule: string } };
    expect(got.job.schedule).toBe("@hourly");
    await call(s, "DeleteJob", { name: "twice" });
  });
});

describe("job triggers to gRPC apps without OnJobEvent", () => {
  it("fall back to AppCallbackAlpha.OnJobEventAlpha1", async () => {
    const app = await grpcApp(["alpha"]);
    const s = await sidecar({
      appId: "jobs-grpc-alpha",
      appPort: app.port,
      appProtocol: "grpc",
      grpcPort: 0,
      schedulerStore: join(dir, "b.db"),
    });
    try {
      await s.ready();
      await call(s, "ScheduleJobAlpha1", {
        job: { name: "a1", dueTime: "0s", data: jsonToAny('"hi"') },
      });
      await call(s, "ScheduleJobAlpha1", { job: { name: "a2", dueTime: "300ms" } });
      await until(() => app.events.length >= 2 || undefined, 5000);
      expect(app.events.map((e) => [e.name, e.via]).sort()).toEqual([
        ["a1", "alpha"],
        ["a2", "alpha"],
      ]);
    } finally {
      await s.stop();
      app.close();
    }
  });

  it("the unmodified @dapr/dapr DaprServer (gRPC) takes the trigger: the job is done, not retried", async () => {
    const appPort = await freePort();
    const s = await sidecar({
      appId: "jobs-sdk-app",
      appPort,
      appProtocol: "grpc",
      grpcPort: 0,
      schedulerStore: join(dir, "c.db"),
    });
    const logger = { level: LogLevel.Error };
    const server = new DaprServer({
      serverHost: "127.0.0.1",
      serverPort: String(appPort),
      communicationProtocol: CommunicationProtocolEnum.GRPC,
      clientOptions: {
        daprHost: "127.0.0.1",
        daprPort: String(s.grpcPort),
        communicationProtocol: CommunicationProtocolEnum.GRPC,
        logger,
      },
      logger,
    });
    try {
      await server.start();
      await s.ready();
      await call(s, "ScheduleJobAlpha1", {
        job: {
          name: "sdk",
          dueTime: "0s",
          // A failed trigger would keep the job for 30 s of retries.
          failurePolicy: { constant: { interval: { seconds: 30 }, maxRetries: 3 } },
        },
      });
      const end = Date.now() + 5000;
      let gone = false;
      while (!gone && Date.now() < end) {
        gone = await failure(s, "GetJob", { name: "sdk" }).then(
          (e) => e.code === grpc.status.NOT_FOUND,
          () => false,
        );
        if (!gone) await sleep(100);
      }
      expect(gone).toBe(true);
    } finally {
      await server.stop().catch(() => undefined);
      await s.stop();
    }
  });
});
