// The standing bad-input suite, gRPC section: every method of dapr.proto.runtime.v1.Dapr without
// a token, with a wrong one and with an empty one is UNAUTHENTICATED (no exemption over gRPC, as
// daprd), an oversize message is RESOURCE_EXHAUSTED, and the sidecar still serves afterwards.
import * as grpc from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { daprProtos } from "../../src/grpc/protos.ts";
import type { Sidecar } from "../../src/index.ts";
import { sidecar } from "../helpers.ts";

const TOKEN = "bad-input-grpc-token";
const MAX_BODY = 64 * 1024;

let s: Sidecar;
let raw: grpc.Client & Record<string, (...a: unknown[]) => unknown>;
const { dapr } = daprProtos();
const definition = dapr.dapr.proto.runtime.v1.Dapr.service as Record<
  string,
  { requestStream: boolean; responseStream: boolean }
>;

beforeAll(async () => {
  s = await sidecar({ grpcPort: 0, apiToken: TOKEN, maxBodySize: MAX_BODY });
  await s.ready();
  raw = new dapr.dapr.proto.runtime.v1.Dapr(
    `127.0.0.1:${s.grpcPort}`,
    grpc.credentials.createInsecure(),
  ) as unknown as typeof raw;
});

afterAll(async () => {
  raw?.close();
  await s?.stop();
});

function metadataFor(token: string | null): grpc.Metadata {
  const m = new grpc.Metadata();
  if (token !== null) m.set("dapr-api-token", token);
  return m;
}

/** The status code one call ends with (OK = 0), whatever its streaming kind. */
function callCode(name: string, request: object, token: string | null): Promise<number> {
  const method = definition[name] as { requestStream: boolean; responseStream: boolean };
  const fn = raw[name] as (...a: unknown[]) => unknown;
  const metadata = metadataFor(token);
  const deadline = { deadline: Date.now() + 5000 };
  return new Promise((resolve) => {
    if (!method.requestStream && !method.responseStream) {
      fn.call(raw, request, metadata, deadline, (e: grpc.ServiceError | null) =>
        resolve(e ? e.code : 0),
      );
      return;
    }
    const call = (
      method.requestStream
        ? fn.call(raw, metadata, deadline)
        : fn.call(raw, request, metadata, deadline)
    ) as grpc.ClientReadableStream<unknown> & { end?: () => void };
    call.on("data", () => undefined);
    call.on("error", (e: grpc.ServiceError) => resolve(e.code));
    call.on("status", (st: grpc.StatusObject) => resolve(st.code));
    if (method.requestStream) call.end?.();
  });
}

async function stillServing(): Promise<void> {
  const code = await callCode(
    "SaveState",
    { storeName: "statestore", states: [{ key: "alive", value: Buffer.from("1") }] },
    TOKEN,
  );
  expect(code).toBe(grpc.status.OK);
}

describe("bad input over gRPC", () => {
  const methods = Object.keys(definition).filter((n) => n[0] === n[0]?.toUpperCase());

  it.for(methods)("%s: no, wrong and empty token are UNAUTHENTICATED", async (name) => {
    for (const token of [null, "wrong", ""]) {
      expect(await callCode(name, {}, token), `${name} token=${token}`).toBe(
        grpc.status.UNAUTHENTICATED,
      );
    }
    await stillServing();
  });

  it("a message over maxBodySize is RESOURCE_EXHAUSTED", async () => {
    const code = await callCode(
      "SaveState",
      { storeName: "statestore", states: [{ key: "big", value: Buffer.alloc(MAX_BODY + 1) }] },
      TOKEN,
    );
    expect(code).toBe(grpc.status.RESOURCE_EXHAUSTED);
    await stillServing();
  });
});
