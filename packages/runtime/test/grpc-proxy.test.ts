// Dapr's gRPC proxying with a plain @grpc/grpc-js client and server of the test's own service
// (fixtures/echo.proto): calls with `dapr-app-id` through the target app's sidecar alone, and
// through the caller's sidecar and then the target's (found through a registry, as the CLI's).
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import * as grpc from "@grpc/grpc-js";
import * as loader from "@grpc/proto-loader";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { daprProtos } from "../src/grpc/protos.ts";
import type { AppAddress, Sidecar } from "../src/index.ts";
import { freePort, sidecar, until } from "./helpers.ts";

const TOKEN = "proxy-token";
const APP_TOKEN = "app-token";
const registry = new Map<string, AppAddress>();

interface Msg {
  text: string;
}
type Method = (...args: unknown[]) => unknown;
type Echo = grpc.Client & { Say: Method; Count: Method; Chat: Method; Hang: Method };

const definition = loader.loadSync(
  join(dirname(fileURLToPath(import.meta.url)), "fixtures", "echo.proto"),
);
const EchoService = (
  grpc.loadPackageDefinition(definition) as unknown as {
    outrig: { test: { echo: { v1: { Echo: grpc.ServiceClientConstructor } } } };
  }
).outrig.test.echo.v1.Echo;

const seen: grpc.Metadata[] = [];
let cancelled = 0;
let app: grpc.Server;
let caller: Sidecar;
let target: Sidecar;

beforeAll(async () => {
  app = new grpc.Server();
  app.addService(EchoService.service, {
    Say: (call: grpc.ServerUnaryCall<Msg, Msg>, callback: grpc.sendUnaryData<Msg>) => {
      seen.push(call.metadata);
      if (call.request.text === "fail") {
        callback({ code: grpc.status.NOT_FOUND, details: "no such text" });
        return;
      }
      const headers = new grpc.Metadata();
      headers.set("x-served-by", "echo");
      call.sendMetadata(headers);
      const trailers = new grpc.Metadata();
      trailers.set("x-trailer", "t1");
      callback(null, { text: `said ${call.request.text}` }, trailers);
    },
    Count: (call: grpc.ServerWritableStream<{ n: number; size: number }, Msg>) => {
      seen.push(call.metadata);
      for (let i = 0; i < call.request.n; i++) {
        call.write({ text: `${i}:${"x".repeat(call.request.size)}` });
      }
      call.end();
    },
    Chat: (call: grpc.ServerDuplexStream<Msg, Msg>) => {
      call.on("data", (m: Msg) => call.write({ text: `re ${m.text}` }));
      call.on("end", () => call.end());
    },
    Hang: (call: grpc.ServerUnaryCall<Msg, Msg>) => {
      seen.push(call.metadata);
      call.once("cancelled", () => cancelled++);
    },
  } as grpc.UntypedServiceImplementation);
  const appPort = await new Promise<number>((resolve, reject) =>
    app.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (e, p) =>
      e ? reject(e) : resolve(p),
    ),
  );
  const resolveApp = async (id: string) => registry.get(id);
  target = await sidecar({
    appId: "px-target",
    appPort,
    appProtocol: "grpc",
    grpcPort: 0,
    apiToken: TOKEN,
    appApiToken: APP_TOKEN,
    resolveApp,
  });
  caller = await sidecar({ appId: "px-caller", grpcPort: 0, apiToken: TOKEN, resolveApp });
  registry.set("px-target", {
    host: "127.0.0.1",
    port: appPort,
    protocol: "grpc",
    sidecar: { host: "127.0.0.1", grpcPort: target.grpcPort },
  });
  await target.ready();
}, 60_000);

afterAll(async () => {
  await caller?.stop();
  await target?.stop();
  app?.forceShutdown();
});

function client(s: Sidecar): Echo {
  return new EchoService(
    `127.0.0.1:${s.grpcPort}`,
    grpc.credentials.createInsecure(),
  ) as unknown as Echo;
}

function md(extra: Record<string, string> = {}): grpc.Metadata {
  const m = new grpc.Metadata();
  m.set("dapr-app-id", "px-target");
  m.set("dapr-api-token", TOKEN);
  for (const [k, v] of Object.entries(extra)) m.set(k, v);
  return m;
}

function say(c: Echo, text: string, metadata: grpc.Metadata, deadlineMs = 5000) {
  return new Promise<{
    error: grpc.ServiceError | null;
    reply?: Msg;
    headers?: grpc.Metadata;
    trailers?: grpc.Metadata;
  }>((resolve) => {
    let headers: grpc.Metadata | undefined;
    let trailers: grpc.Metadata | undefined;
    const call = c.Say(
      { text },
      metadata,
      { deadline: Date.now() + deadlineMs },
      (error: grpc.ServiceError | null, reply?: Msg) =>
        setImmediate(() => resolve({ error, reply, headers, trailers })),
    ) as grpc.ClientUnaryCall;
    call.on("metadata", (m) => {
      headers = m;
    });
    call.on("status", (s) => {
      trailers = s.metadata;
    });
  });
}

function collect(stream: grpc.ClientReadableStream<Msg>): Promise<Msg[]> {
  return new Promise((resolve, reject) => {
    const out: Msg[] = [];
    stream.on("data", (m: Msg) => out.push(m));
    stream.on("error", reject);
    stream.on("end", () => resolve(out));
  });
}

for (const route of ["through the target's sidecar", "through two sidecars"] as const) {
  describe(`gRPC proxying ${route}`, () => {
    const via = (): Sidecar => (route === "through two sidecars" ? caller : target);

    it("passes a unary call, its metadata, response headers and trailers through unchanged", async () => {
      const c = client(via());
      try {
        const before = seen.length;
        const r = await say(c, "hi", md({ "x-who": "me" }));
        expect(r.error).toBeNull();
        expect(r.reply).toEqual({ text: "said hi" });
        expect(r.headers?.get("x-served-by")).toEqual(["echo"]);
        expect(r.trailers?.get("x-trailer")).toEqual(["t1"]);
        const got = seen[before] as grpc.Metadata;
        expect(got.get("x-who")).toEqual(["me"]);
        expect(got.get("dapr-app-id")).toEqual(["px-target"]);
        // The app gets its own APP_API_TOKEN, never the caller's API token.
        expect(got.get("dapr-api-token")).toEqual([APP_TOKEN]);
        expect(got.get("dapr-callee-app-id")).toEqual(["px-target"]);
        expect(got.get("dapr-caller-app-id")).toEqual([
          route === "through two sidecars" ? "px-caller" : "px-target",
        ]);
        expect(got.get("outrig-forwarded-by")).toEqual([]);
      } finally {
        c.close();
      }
    });

    it("passes the app's failure status through", async () => {
      const c = client(via());
      try {
        const r = await say(c, "fail", md());
        expect(r.error?.code).toBe(grpc.status.NOT_FOUND);
        expect(r.error?.details).toBe("no such text");
      } finally {
        c.close();
      }
    });

    it("streams a server-streaming answer in order, 16 MB with flow control", async () => {
      const c = client(via());
      try {
        const stream = c.Count({ n: 256, size: 65_536 }, md()) as grpc.ClientReadableStream<Msg>;
        const got = await collect(stream);
        expect(got).toHaveLength(256);
        expect(got.map((m) => Number(m.text.split(":")[0]))).toEqual([...Array(256).keys()]);
        expect(got.every((m) => m.text.length === 65_536 + String(got.indexOf(m)).length + 1)).toBe(
          true,
        );
      } finally {
        c.close();
      }
    });

    it("carries a bidirectional stream both ways", async () => {
      const c = client(via());
      try {
        const chat = c.Chat(md()) as grpc.ClientDuplexStream<Msg, Msg>;
        const got = collect(chat);
        for (const text of ["a", "b", "c"]) chat.write({ text });
        chat.end();
        expect(await got).toEqual([{ text: "re a" }, { text: "re b" }, { text: "re c" }]);
      } finally {
        c.close();
      }
    });

    it("ends the app's call at the caller's deadline", async () => {
      const c = client(via());
      try {
        const before = cancelled;
        const error = await new Promise<grpc.ServiceError | null>((resolve) =>
          c.Hang({ text: "h" }, md(), { deadline: Date.now() + 300 }, resolve),
        );
        expect(error?.code).toBe(grpc.status.DEADLINE_EXCEEDED);
        await until(() => cancelled > before);
      } finally {
        c.close();
      }
    });

    it("cancels the app's call when the caller cancels", async () => {
      const c = client(via());
      try {
        const before = cancelled;
        const count = seen.length;
        let error: grpc.ServiceError | undefined;
        const call = c.Hang({ text: "h" }, md(), (e: grpc.ServiceError | null) => {
          error = e ?? undefined;
        }) as grpc.ClientUnaryCall;
        await until(() => seen.length > count);
        call.cancel();
        await until(() => cancelled > before);
        await until(() => error);
        expect(error?.code).toBe(grpc.status.CANCELLED);
      } finally {
        c.close();
      }
    });

    it("refuses a call without the sidecar's API token, UNAUTHENTICATED", async () => {
      const c = client(via());
      try {
        const before = seen.length;
        const m = new grpc.Metadata();
        m.set("dapr-app-id", "px-target");
        const r = await say(c, "hi", m);
        expect(r.error?.code).toBe(grpc.status.UNAUTHENTICATED);
        expect(seen.length).toBe(before);
      } finally {
        c.close();
      }
    });
  });
}

describe("gRPC proxying: what is not proxied", () => {
  it("an unknown app id fails naming it", async () => {
    const c = client(caller);
    try {
      const m = md();
      m.set("dapr-app-id", "nobody");
      const r = await say(c, "hi", m);
      expect(r.error?.code).toBe(grpc.status.INTERNAL);
      expect(r.error?.details).toContain("couldn't find service: nobody");
    } finally {
      c.close();
    }
  });

  it("a sidecar that does not answer fails the call naming the app", async () => {
    registry.set("px-gone", {
      host: "127.0.0.1",
      port: 1,
      protocol: "grpc",
      sidecar: { host: "127.0.0.1", grpcPort: await freePort() },
    });
    const c = client(caller);
    try {
      const m = md();
      m.set("dapr-app-id", "px-gone");
      const r = await say(c, "hi", m);
      expect(r.error?.code).toBe(grpc.status.INTERNAL);
      expect(r.error?.details).toContain("failed to invoke, id: px-gone");
    } finally {
      c.close();
    }
  });

  it("Dapr's own API is served, not proxied, even with dapr-app-id", async () => {
    const { dapr } = daprProtos();
    const raw = new dapr.dapr.proto.runtime.v1.Dapr(
      `127.0.0.1:${caller.grpcPort}`,
      grpc.credentials.createInsecure(),
    );
    try {
      const id = await new Promise<string | undefined>((resolve, reject) =>
        raw.GetMetadata({}, md(), (e, r) => (e ? reject(e) : resolve(r?.id))),
      );
      expect(id).toBe("px-caller");
    } finally {
      raw.close();
    }
  });

  it("a call without dapr-app-id to another service is UNIMPLEMENTED", async () => {
    const c = client(caller);
    try {
      const m = new grpc.Metadata();
      m.set("dapr-api-token", TOKEN);
      const r = await say(c, "hi", m);
      expect(r.error?.code).toBe(grpc.status.UNIMPLEMENTED);
    } finally {
      c.close();
    }
  });
});
