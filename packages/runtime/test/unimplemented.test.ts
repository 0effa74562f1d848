// Issue 20 §8: building blocks outrig does not build answer 501 / UNIMPLEMENTED naming the API,
// over the whole route space, and a resources folder holding components of those kinds still
// starts the sidecar, warning by type.
import * as grpc from "@grpc/grpc-js";
import type { Logger } from "@outrig/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { daprProtos } from "../src/grpc/protos.ts";
import type { Sidecar } from "../src/index.ts";
import { componentYaml } from "./fixtures/component-yaml.ts";
import { STATE_AND_PUBSUB, sidecar } from "./helpers.ts";

const warnings: string[] = [];
const logger: Logger = {
  debug() {},
  info() {},
  warn(message) {
    warnings.push(message);
  },
  error() {},
};

const component = (name: string, type: string) =>
  `\n---${componentYaml(name, type, { redisHost: "localhost:1" })}`;

let s: Sidecar;
beforeAll(async () => {
  s = await sidecar({
    grpcPort: 0,
    logger,
    resources:
      STATE_AND_PUBSUB +
      component("flows", "workflow.dapr") +
      component("ratelimit", "middleware.http.ratelimit") +
      component("mdns", "nameresolution.mdns"),
  });
});
afterAll(() => s?.stop());

describe("the HTTP route space", () => {
  const cases: [string, string, string][] = [
    ["POST", "/v1.0-alpha1/anything", "anything"],
    ["GET", "/v1.0-alpha1/anything/deeper/path", "anything"],
    ["POST", "/v1.0/subtlecrypto/getkey", "cryptography"],
    ["POST", "/v1.0/crypto/c/encrypt", "cryptography"],
    ["POST", "/v1.0-alpha2/anything", "anything"],
    ["POST", "/v1.0-beta1/lock/store", "distributed lock"],
    ["GET", "/v1.0/unknownblock", "unknownblock"],
    ["POST", "/v1.0-alpha3/state/store", "state"],
  ];
  for (const [method, path, api] of cases) {
    it(`${method} ${path} is 501 ERR_API_UNIMPLEMENTED naming the ${api} API`, async () => {
      const res = await fetch(`${s.url}${path}`, { method });
      expect(res.status).toBe(501);
      const body = (await res.json()) as { errorCode: string; message: string };
      expect(body.errorCode).toBe("ERR_API_UNIMPLEMENTED");
      expect(body.message).toBe(`the ${api} API is not implemented by outrig`);
    });
  }

  it("a served route with another method is 405 naming the allowed methods, not an invocation", async () => {
    const res = await fetch(`${s.url}/v1.0/state/statestore`, { method: "GET" });
    expect(res.status).toBe(405);
    expect(res.headers.get("allow")).toBe("POST, PUT");
    const body = (await res.json()) as { errorCode: string; message: string };
    expect(body.errorCode).toBe("ERR_METHOD_NOT_ALLOWED");
    expect(body.message).toContain("allowed: POST, PUT");
  });

  it("a path outside the API space without an app id is still 404 ERR_DIRECT_INVOKE (daprd's fallback)", async () => {
    const res = await fetch(`${s.url}/orders/1`);
    expect(res.status).toBe(404);
    expect(((await res.json()) as { errorCode: string }).errorCode).toBe("ERR_DIRECT_INVOKE");
  });
});

describe("gRPC", () => {
  const call = (method: string, request: object): Promise<grpc.ServiceError> => {
    const { dapr } = daprProtos();
    const client = new dapr.dapr.proto.runtime.v1.Dapr(
      `127.0.0.1:${s.grpcPort}`,
      grpc.credentials.createInsecure(),
    ) as unknown as Record<
      string,
      (r: object, cb: (e: grpc.ServiceError | null) => void) => void
    > & { close(): void };
    return new Promise((resolve, reject) =>
      (client[method] as (r: object, cb: (e: grpc.ServiceError | null) => void) => void).call(
        client,
        request,
        (e) => {
          client.close();
          if (e) resolve(e);
          else reject(new Error(`${method} succeeded`));
        },
      ),
    );
  };
  for (const [method, api] of [
    ["SubtleGetKeyAlpha1", "cryptography"],
    ["StartWorkflowBeta1", "workflows"],
  ] as const) {
    it(`${method} is UNIMPLEMENTED naming the ${api} API and the method`, async () => {
      const e = await call(method, {});
      expect(e.code).toBe(grpc.status.UNIMPLEMENTED);
      expect(e.details).toContain(`the ${api} (method dapr.proto.runtime.v1.Dapr/${method}) API`);
    });
  }
});

describe("components of kinds outrig does not build", () => {
  it("are skipped with a warning naming the component, its type and the building block", () => {
    expect(warnings).toEqual(
      expect.arrayContaining([
        "component flows (workflow.dapr) skipped: the workflows building block is not implemented by outrig",
        "component ratelimit (middleware.http.ratelimit) skipped: the HTTP middleware building block is not implemented by outrig",
        "component mdns (nameresolution.mdns) skipped: the name resolution building block is not implemented by outrig",
      ]),
    );
  });

  it("while the others load and serve", async () => {
    const names = (
      (await (await fetch(`${s.url}/v1.0/metadata`)).json()) as { components: { name: string }[] }
    ).components.map((c) => c.name);
    expect(names).toContain("statestore");
    expect(names).not.toContain("flows");
  });
});
