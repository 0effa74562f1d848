// The Configuration's `api.allowed` / `api.denied` on real sidecars, per protocol: an allowed API
// answers, a refused one answers as daprd does. Over HTTP a refused route is not registered, so
// the dapr-app-id fallback (part of the invoke API) catches it, or, with invoke refused too,
// nothing does ("404 page not found"). Over gRPC a refused method is UNIMPLEMENTED "Not
// Implemented" with an ErrorInfo carrying http.code 501.
import * as grpc from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { unappliedSettings } from "../src/components/unapplied.ts";
import type { DaprClient as RawDaprClient } from "../src/grpc/generated/dapr/proto/runtime/v1/Dapr.ts";
import { daprProtos } from "../src/grpc/protos.ts";
import type { Sidecar } from "../src/index.ts";
import { parseResources } from "../src/resources/parse.ts";
import { daprClient, STATE_AND_PUBSUB, sidecar } from "./helpers.ts";

const configuration = (name: string, api: string) => `${STATE_AND_PUBSUB}
---
apiVersion: dapr.io/v1alpha1
kind: Configuration
metadata:
  name: ${name}
spec:
  api:
${api}
`;

const ALLOWING = configuration(
  "allowing",
  `    allowed:
      - name: state
        version: v1.0
        protocol: http
      - name: state
        version: v1
        protocol: grpc
      - name: metadata
        version: v1
        protocol: grpc`,
);

const DENYING = configuration(
  "denying",
  `    denied:
      - name: publish
        version: v1.0
        protocol: http
      - name: secrets
        version: v1
        protocol: HTTP
      - name: publish
        version: v1
        protocol: grpc`,
);

let allowing: Sidecar;
let denying: Sidecar;
let guarded: Sidecar;
const raws: RawDaprClient[] = [];

beforeAll(async () => {
  [allowing, denying, guarded] = await Promise.all([
    sidecar({ appId: "allowlist-a", resources: ALLOWING }),
    sidecar({ appId: "allowlist-d", resources: DENYING }),
    sidecar({ appId: "allowlist-t", resources: DENYING, apiToken: "allowlist-token" }),
  ]);
}, 30_000);

afterAll(async () => {
  for (const raw of raws) raw.close();
  await Promise.all([allowing?.stop(), denying?.stop(), guarded?.stop()]);
});

function rawClient(s: Sidecar): RawDaprClient {
  const { dapr } = daprProtos();
  const raw = new dapr.dapr.proto.runtime.v1.Dapr(
    `127.0.0.1:${s.grpcPort}`,
    grpc.credentials.createInsecure(),
  );
  raws.push(raw);
  return raw;
}

/** A raw unary call's failure with its ErrorInfo (reason, domain, metadata). */
async function refusal(s: Sidecar, method: keyof RawDaprClient & string, request: object) {
  const raw = rawClient(s);
  const error = await new Promise<grpc.ServiceError | null>((resolve) =>
    (raw[method] as unknown as (...a: unknown[]) => void).call(
      raw,
      request,
      new grpc.Metadata(),
      (e: grpc.ServiceError | null) => resolve(e),
    ),
  );
  if (!error) throw new Error(`${method} succeeded`);
  const bin = error.metadata.get("grpc-status-details-bin")[0];
  if (!(bin instanceof Buffer))
    return { code: error.code, details: error.details, info: undefined };
  const { status, errorInfo } = daprProtos();
  const decoded = status.decode(bin) as unknown as {
    details: { type_url: string; value: Uint8Array }[];
  };
  const detail = decoded.details.find((d) => d.type_url.endsWith("google.rpc.ErrorInfo"));
  const info = errorInfo.toObject(errorInfo.decode(detail?.value ?? new Uint8Array())) as {
    reason: string;
    domain: string;
    metadata: Record<string, string>;
  };
  return { code: error.code, details: error.details, info };
}

const DAPR_REFUSAL = {
  code: grpc.status.UNIMPLEMENTED,
  details: "Not Implemented",
  info: {
    reason: "Not Implemented",
    domain: "dapr.io",
    metadata: { "http.code": "501", "http.error_message": "requested endpoint is not available" },
  },
};

const http = (s: Sidecar, path: string, init?: RequestInit) =>
  fetch(`http://127.0.0.1:${s.httpPort}${path}`, init);

describe("an allow list", () => {
  it("serves the allowed HTTP API (state v1.0) and the health checks", async () => {
    const saved = await http(allowing, "/v1.0/state/statestore", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify([{ key: "k", value: { n: 1 } }]),
    });
    expect(saved.status).toBe(204);
    const got = await http(allowing, "/v1.0/state/statestore/k");
    expect(await got.json()).toEqual({ n: 1 });
    expect((await http(allowing, "/v1.0/healthz")).status).toBe(204);
  });

  it("refuses every other HTTP API as daprd's router does: no route, no invoke fallback", async () => {
    for (const [method, path] of [
      ["POST", "/v1.0/publish/pubsub/orders"],
      ["GET", "/v1.0/metadata"],
      ["POST", "/v1.0/invoke/someone/method/hello"],
      ["POST", "/v1.0-alpha1/state/statestore/query"],
    ] as const) {
      const res = await http(allowing, path, {
        method,
        headers: { "dapr-app-id": "someone" },
        ...(method === "POST" ? { body: "{}" } : {}),
      });
      expect([path, res.status, await res.text()]).toEqual([path, 404, "404 page not found\n"]);
      expect(res.headers.get("content-type")).toBe("text/plain; charset=utf-8");
    }
  });

  // The SDK's gRPC client reads the metadata API when it starts, so that group is allowed too.
  it("serves the allowed gRPC API (state v1) through the unmodified SDK", async () => {
    const client = daprClient(allowing, "grpc");
    try {
      await client.state.save("statestore", [{ key: "g", value: "grpc" }]);
      expect(await client.state.get("statestore", "g")).toBe("grpc");
    } finally {
      await client.stop();
    }
  });

  it("refuses every other gRPC method with daprd's status and ErrorInfo", async () => {
    expect(
      await refusal(allowing, "PublishEvent", {
        pubsubName: "pubsub",
        topic: "t",
        data: Buffer.from("x"),
      }),
    ).toEqual(DAPR_REFUSAL);
    expect(await refusal(allowing, "InvokeBinding", { name: "b", operation: "create" })).toEqual(
      DAPR_REFUSAL,
    );
    // The state v1alpha1 group (query) is not state v1.
    expect(
      await refusal(allowing, "QueryStateAlpha1", { storeName: "statestore", query: "{}" }),
    ).toEqual(DAPR_REFUSAL);
  });
});

describe("a streaming method", () => {
  it("is refused with the same status on its stream", async () => {
    const raw = rawClient(allowing) as unknown as Record<
      string,
      (req: object) => NodeJS.EventEmitter
    >;
    const stream = raw.SubscribeConfiguration?.({ storeName: "nostore", keys: [] });
    const error = await new Promise<grpc.ServiceError>((resolve) =>
      stream?.once("error", (e: grpc.ServiceError) => resolve(e)),
    );
    expect([error.code, error.details]).toEqual([grpc.status.UNIMPLEMENTED, "Not Implemented"]);
  });
});

describe("a deny list", () => {
  it("serves what it does not deny, over both protocols", async () => {
    const res = await http(denying, "/v1.0/metadata");
    expect(res.status).toBe(200);
    expect(((await res.json()) as { id: string }).id).toBe("allowlist-d");
    const client = daprClient(denying, "grpc");
    try {
      await client.state.save("statestore", [{ key: "d", value: 7 }]);
      expect(await client.state.get("statestore", "d")).toBe(7);
    } finally {
      await client.stop();
    }
  });

  it("leaves a denied HTTP route to the invoke fallback, by path prefix or group version", async () => {
    for (const path of ["/v1.0/publish/pubsub/orders", "/v1.0/secrets/store/key"]) {
      const res = await http(denying, path, { method: path.includes("publish") ? "POST" : "GET" });
      expect([path, res.status, await res.json()]).toEqual([
        path,
        404,
        {
          errorCode: "ERR_DIRECT_INVOKE",
          message: "failed getting app id either from the URL path or the header dapr-app-id",
        },
      ]);
    }
  });

  it("refuses a denied gRPC method, and only on gRPC", async () => {
    expect(
      await refusal(denying, "PublishEvent", {
        pubsubName: "pubsub",
        topic: "t",
        data: Buffer.from("x"),
      }),
    ).toEqual(DAPR_REFUSAL);
    // The HTTP rule for secrets does not touch gRPC: the call reaches the API (no such store).
    const secret = await refusal(denying, "GetSecret", { storeName: "nope", key: "k" });
    expect(secret.code).not.toBe(grpc.status.UNIMPLEMENTED);
  });
});

describe("with an API token", () => {
  it("refuses a denied gRPC method before the token check, as daprd orders its interceptors", async () => {
    // No token at all: still daprd's refusal, not UNAUTHENTICATED.
    const publish = { pubsubName: "pubsub", topic: "t", data: Buffer.from("x") };
    expect(await refusal(guarded, "PublishEvent", publish)).toEqual(DAPR_REFUSAL);
    const other = await refusal(guarded, "GetSecret", { storeName: "nope", key: "k" });
    expect(other.code).toBe(grpc.status.UNAUTHENTICATED);
  });

  it("checks the token before routing over HTTP, as daprd's middleware does", async () => {
    const res = await http(guarded, "/v1.0/publish/pubsub/orders", { method: "POST", body: "{}" });
    expect([res.status, await res.text()]).toEqual([401, "invalid api token"]);
  });
});

describe("rules for no protocol", () => {
  it("are named at start-up, as neither server reads them", () => {
    const resources = parseResources(
      configuration(
        "odd",
        `    allowed:
      - name: state
        version: v1
        protocol: smtp
      - name: state
        version: v1
        protocol: grpc`,
      ),
      "odd.yaml",
    );
    expect(unappliedSettings(resources).map((s) => [s.field, s.value])).toEqual([
      ["spec.api.allowed[0].protocol", "smtp"],
    ]);
  });
});
