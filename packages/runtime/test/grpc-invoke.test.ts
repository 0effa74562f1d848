// Service invocation across protocols and sidecars, with real clients and servers: two sidecars
// that find each other's apps through a registry (as the CLI's), an HTTP DaprServer app, a gRPC
// DaprServer app, and a plain @grpc/grpc-js AppCallback server that records what it is sent.
import { type DaprClient, type DaprServer, HttpMethod } from "@dapr/dapr";
import * as grpc from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { InvokeRequest__Output } from "../src/grpc/generated/dapr/proto/common/v1/InvokeRequest.ts";
import type { DaprClient as RawDaprClient } from "../src/grpc/generated/dapr/proto/runtime/v1/Dapr.ts";
import { daprProtos } from "../src/grpc/protos.ts";
import type { AppAddress, Sidecar } from "../src/index.ts";
import { daprApp, daprGrpcClient, freePort, sidecar, until } from "./helpers.ts";

const registry = new Map<string, AppAddress>();
const resolveApp = async (id: string) => registry.get(id);

let httpSide: Sidecar;
let grpcSide: Sidecar;
let httpApp: DaprServer;
let grpcApp: DaprServer;
let grpcAppClient: DaprClient;
let onHttpSide: DaprClient;
let onGrpcSide: DaprClient;
let rawApp: grpc.Server;
let raw: RawDaprClient;
const recorded: { request: InvokeRequest__Output; metadata: grpc.Metadata }[] = [];
let cancelled = 0;

beforeAll(async () => {
  const httpPort = await freePort();
  const grpcPort = await freePort();
  httpSide = await sidecar({ appId: "inv-http", appPort: httpPort, grpcPort: 0, resolveApp });
  grpcSide = await sidecar({
    appId: "inv-grpc",
    appPort: grpcPort,
    appProtocol: "grpc",
    grpcPort: 0,
    resolveApp,
  });
  registry.set("inv-http", { host: "127.0.0.1", port: httpPort, protocol: "http" });
  registry.set("inv-grpc", { host: "127.0.0.1", port: grpcPort, protocol: "grpc" });

  httpApp = daprApp(httpPort, httpSide, "http");
  await httpApp.invoker.listen(
    "hello",
    async (request) => ({ from: "http app", body: JSON.parse(request.body ?? "null") }),
    { method: HttpMethod.POST },
  );
  grpcApp = daprApp(grpcPort, grpcSide, "grpc");
  grpcAppClient = daprGrpcClient(grpcSide);
  await grpcApp.invoker.listen(
    "hello",
    async (request) => ({ from: "grpc app", body: JSON.parse(request.body ?? "null") }),
    { method: HttpMethod.POST },
  );
  // The gRPC app calls back to the HTTP app through its own sidecar's gRPC API.
  await grpcApp.invoker.listen(
    "relay",
    async (request) => ({
      relayed: await grpcAppClient.invoker.invoke("inv-http", "hello", HttpMethod.POST, {
        via: JSON.parse(request.body ?? "null"),
      }),
    }),
    { method: HttpMethod.POST },
  );
  await httpApp.start();
  await grpcApp.start();

  // A bare AppCallback server: answers `echo`, fails `missing` NOT_FOUND, never answers `slow`.
  const { appCallback, dapr } = daprProtos();
  rawApp = new grpc.Server();
  rawApp.addService(appCallback.dapr.proto.runtime.v1.AppCallback.service, {
    OnInvoke: (
      call: grpc.ServerUnaryCall<InvokeRequest__Output, unknown>,
      callback: grpc.sendUnaryData<unknown>,
    ) => {
      recorded.push({ request: call.request, metadata: call.metadata });
      if (call.request.method === "missing") {
        callback({ code: grpc.status.NOT_FOUND, details: "no such thing" });
      } else if (call.request.method === "slow") {
        call.once("cancelled", () => cancelled++);
      } else {
        callback(null, {
          data: {
            type_url: "",
            value: Buffer.concat([
              Buffer.from("echo:"),
              call.request.data?.value ?? Buffer.alloc(0),
            ]),
          },
          contentType: "text/x-echo",
        });
      }
    },
  } as grpc.UntypedServiceImplementation);
  const rawPort = await new Promise<number>((resolve, reject) =>
    rawApp.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (e, p) =>
      e ? reject(e) : resolve(p),
    ),
  );
  registry.set("inv-raw", { host: "127.0.0.1", port: rawPort, protocol: "grpc" });
  await httpSide.ready();
  await grpcSide.ready();
  onHttpSide = daprGrpcClient(httpSide);
  onGrpcSide = daprGrpcClient(grpcSide);
  raw = new dapr.dapr.proto.runtime.v1.Dapr(
    `127.0.0.1:${httpSide.grpcPort}`,
    grpc.credentials.createInsecure(),
  );
}, 60_000);

afterAll(async () => {
  raw?.close();
  for (const c of [onHttpSide, onGrpcSide, grpcAppClient]) await c?.stop().catch(() => undefined);
  for (const a of [httpApp, grpcApp]) await a?.stop().catch(() => undefined);
  rawApp?.forceShutdown();
  await httpSide?.stop();
  await grpcSide?.stop();
});

describe("the @dapr/dapr SDK in gRPC mode invokes apps of either protocol on another sidecar", () => {
  it("reaches the gRPC app from the HTTP app's sidecar", async () => {
    const answer = await onHttpSide.invoker.invoke("inv-grpc", "hello", HttpMethod.POST, { a: 1 });
    expect(answer).toEqual({ from: "grpc app", body: { a: 1 } });
  });

  it("reaches the HTTP app from the gRPC app's sidecar", async () => {
    const answer = await onGrpcSide.invoker.invoke("inv-http", "hello", HttpMethod.POST, { b: 2 });
    expect(answer).toEqual({ from: "http app", body: { b: 2 } });
  });
});

describe("HTTP invocation of a gRPC app (AppCallback.OnInvoke)", () => {
  it("an HTTP caller reaches the gRPC app, which invokes the HTTP app back", async () => {
    const res = await fetch(`${httpSide.url}/v1.0/invoke/inv-grpc/method/relay`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ n: 7 }),
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({
      relayed: { from: "http app", body: { via: { n: 7 } } },
    });
  });

  it("translates verb, query string, content type, body and headers as daprd does", async () => {
    const res = await fetch(`${httpSide.url}/v1.0/invoke/inv-raw/method/echo?x=1&y=two`, {
      method: "PUT",
      headers: { "content-type": "text/plain", "x-custom": "c1" },
      body: "payload",
    });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/x-echo");
    expect(await res.text()).toBe("echo:payload");
    const got = recorded.at(-1);
    expect(got?.request).toMatchObject({
      method: "echo",
      contentType: "text/plain",
      httpExtension: { verb: "PUT", querystring: "x=1&y=two" },
    });
    expect(got?.request.data?.value.toString()).toBe("payload");
    expect(got?.metadata.get("x-custom")).toEqual(["c1"]);
    expect(got?.metadata.get("dapr-caller-app-id")).toEqual(["inv-http"]);
    expect(got?.metadata.get("dapr-callee-app-id")).toEqual(["inv-raw"]);
  });

  it("answers the app's failure status as its HTTP status with the google.rpc.Status as JSON", async () => {
    const res = await fetch(`${httpSide.url}/v1.0/invoke/inv-raw/method/missing`);
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({
      code: grpc.status.NOT_FOUND,
      message: "no such thing",
      details: [],
    });
    expect(recorded.at(-1)?.request.httpExtension?.verb).toBe("GET");
  });

  it("cancels the app's call when the HTTP caller goes away", async () => {
    const before = cancelled;
    const abort = new AbortController();
    const pending = fetch(`${httpSide.url}/v1.0/invoke/inv-raw/method/slow`, {
      method: "POST",
      body: "x",
      signal: abort.signal,
    }).catch((e: Error) => e);
    await until(() => recorded.at(-1)?.request.method === "slow");
    abort.abort();
    expect(await pending).toBeInstanceOf(Error);
    await until(() => cancelled > before);
  });
});

describe("gRPC InvokeService to a gRPC app on another sidecar", () => {
  function invoke(method: string, metadata: grpc.Metadata, deadlineMs: number) {
    return new Promise<grpc.ServiceError | null>((resolve) =>
      raw.InvokeService(
        { id: "inv-raw", message: { method, data: { type_url: "", value: Buffer.from("d") } } },
        metadata,
        { deadline: Date.now() + deadlineMs },
        (error) => resolve(error),
      ),
    );
  }

  it("passes the caller's metadata and the app's own failure status through", async () => {
    const metadata = new grpc.Metadata();
    metadata.set("x-trace-me", "yes");
    const error = await invoke("missing", metadata, 5000);
    expect(error?.code).toBe(grpc.status.NOT_FOUND);
    expect(error?.details).toBe("no such thing");
    expect(recorded.at(-1)?.metadata.get("x-trace-me")).toEqual(["yes"]);
    expect(recorded.at(-1)?.metadata.get("dapr-caller-app-id")).toEqual(["inv-http"]);
  });

  it("an HTTP app's error status is its gRPC status, with dapr-http-status and an ErrorInfo", async () => {
    const error = await new Promise<grpc.ServiceError | null>((resolve) =>
      raw.InvokeService(
        {
          id: "inv-http",
          message: { method: "no-such-route", httpExtension: { verb: "GET", querystring: "" } },
        },
        (e) => resolve(e),
      ),
    );
    expect(error?.code).toBe(grpc.status.NOT_FOUND);
    expect(error?.details).toBe("Not Found");
    expect(error?.metadata.get("dapr-http-status")).toEqual(["404"]);
    const { status, errorInfo } = daprProtos();
    const bin = error?.metadata.get("grpc-status-details-bin")[0] as Buffer;
    const decoded = status.decode(bin) as unknown as { details: { value: Uint8Array }[] };
    const info = errorInfo.decode(decoded.details[0]?.value as Uint8Array) as unknown as {
      reason: string;
      metadata: Record<string, string>;
    };
    expect(info.reason).toBe("Not Found");
    expect(info.metadata["http.code"]).toBe("404");
  });

  it("carries the caller's deadline to the app, which sees the call cancelled", async () => {
    const before = cancelled;
    const error = await invoke("slow", new grpc.Metadata(), 300);
    expect(error?.code).toBe(grpc.status.DEADLINE_EXCEEDED);
    await until(() => cancelled > before);
  });
});
