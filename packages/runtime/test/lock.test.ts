// The distributed lock through the sidecar with real clients: the unmodified @dapr/dapr SDK's
// client.lock over HTTP and over gRPC, and a raw @grpc/grpc-js client for Dapr's error statuses.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CommunicationProtocolEnum, DaprClient, LogLevel } from "@dapr/dapr";

// The SDK's LockStatus enum (types/lock/UnlockResponse), which its package root does not export.
const LockStatus = { Success: 0, LockDoesNotExist: 1, LockBelongsToOthers: 2 } as const;

import * as grpc from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DaprClient as RawDaprClient } from "../src/grpc/generated/dapr/proto/runtime/v1/Dapr.ts";
import { daprProtos } from "../src/grpc/protos.ts";
import type { Sidecar } from "../src/index.ts";
import { grpcFailure, sidecar } from "./helpers.ts";

const dir = mkdtempSync(join(tmpdir(), "outrig-lock-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const STORES: { name: string; yaml: string }[] = [
  { name: "in-memory", yaml: "  type: lock.in-memory\n  version: v1" },
  {
    name: "sqlite",
    yaml: `  type: lock.sqlite\n  version: v1\n  metadata:\n    - name: connectionString\n      value: ${join(dir, "locks.db")}`,
  },
];

const logger = { level: LogLevel.Error };

for (const { name, yaml } of STORES) {
  describe(`lock through the sidecar: ${name}`, () => {
    let s: Sidecar;
    let http: DaprClient;
    let grpcClient: DaprClient;
    let raw: RawDaprClient;
    const resource = (id: string) => `${name}-${id}`;

    beforeAll(async () => {
      s = await sidecar({
        appId: "lock-app",
        grpcPort: 0,
        resources: `apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata:\n  name: lockstore\nspec:\n${yaml}\n`,
      });
      http = new DaprClient({
        daprHost: "127.0.0.1",
        daprPort: String(s.httpPort),
        communicationProtocol: CommunicationProtocolEnum.HTTP,
        logger,
      });
      grpcClient = new DaprClient({
        daprHost: "127.0.0.1",
        daprPort: String(s.grpcPort),
        communicationProtocol: CommunicationProtocolEnum.GRPC,
        logger,
      });
      const { dapr } = daprProtos();
      raw = new dapr.dapr.proto.runtime.v1.Dapr(
        `127.0.0.1:${s.grpcPort}`,
        grpc.credentials.createInsecure(),
      ) as unknown as RawDaprClient;
    }, 60_000);

    afterAll(async () => {
      raw?.close();
      await grpcClient?.stop().catch(() => undefined);
      await s?.stop();
    });

    it("SDK over HTTP: lock, refuse, unlock statuses", async () => {
      const r = resource("http");
      expect(await http.lock.lock("lockstore", r, "a", 60)).toEqual({ success: true });
      expect(await http.lock.lock("lockstore", r, "b", 60)).toEqual({ success: false });
      expect(await http.lock.unlock("lockstore", r, "b")).toEqual({
        status: LockStatus.LockBelongsToOthers,
      });
      expect(await http.lock.unlock("lockstore", r, "a")).toEqual({ status: LockStatus.Success });
      expect(await http.lock.unlock("lockstore", r, "a")).toEqual({
        status: LockStatus.LockDoesNotExist,
      });
    });

    it("SDK over gRPC: lock, refuse, unlock statuses; HTTP and gRPC see the same locks", async () => {
      const r = resource("grpc");
      expect(await grpcClient.lock.lock("lockstore", r, "a", 60)).toEqual({ success: true });
      expect(await grpcClient.lock.lock("lockstore", r, "b", 60)).toEqual({ success: false });
      expect(await http.lock.lock("lockstore", r, "c", 60)).toEqual({ success: false });
      expect(await grpcClient.lock.unlock("lockstore", r, "b")).toEqual({
        status: LockStatus.LockBelongsToOthers,
      });
      expect(await grpcClient.lock.unlock("lockstore", r, "a")).toEqual({
        status: LockStatus.Success,
      });
      expect(await grpcClient.lock.unlock("lockstore", r, "a")).toEqual({
        status: LockStatus.LockDoesNotExist,
      });
    });

    it("the component sees daprd's key layout: lock||<appid>||<resourceId>", async () => {
      const r = resource("layout");
      expect(await http.lock.lock("lockstore", r, "a", 60)).toEqual({ success: true });
      const inner = s.runtime.lockStore("lockstore").inner;
      expect(
        await inner.tryLock({
          resourceId: `lock||lock-app||${r}`,
          lockOwner: "z",
          expiryInSeconds: 5,
        }),
      ).toEqual({ success: false });
      expect(await inner.unlock({ resourceId: `lock||lock-app||${r}`, lockOwner: "a" })).toEqual({
        status: 0,
      });
    });

    it("gRPC bad input: Dapr's status codes and ErrorInfo reasons", async () => {
      const md = new grpc.Metadata();
      const cases: [string, object, number, string, string][] = [
        [
          "TryLockAlpha1",
          { storeName: "lockstore", resourceId: "r", lockOwner: "a", expiryInSeconds: 0 },
          grpc.status.INVALID_ARGUMENT,
          "DAPR_LOCK_NEGATIVE_EXPIRY",
          "ExpiryInSeconds is not positive in lock store lockstore",
        ],
        [
          "TryLockAlpha1",
          { storeName: "lockstore", lockOwner: "a", expiryInSeconds: 5 },
          grpc.status.INVALID_ARGUMENT,
          "DAPR_LOCK_RESOURCE_ID_EMPTY",
          "ResourceId is empty in lock store lockstore",
        ],
        [
          "TryLockAlpha1",
          { storeName: "lockstore", resourceId: "r", expiryInSeconds: 5 },
          grpc.status.INVALID_ARGUMENT,
          "DAPR_LOCK_LOCK_OWNER_EMPTY",
          "LockOwner is empty in lock store lockstore",
        ],
        [
          "TryLockAlpha1",
          { storeName: "nostore", resourceId: "r", lockOwner: "a", expiryInSeconds: 5 },
          grpc.status.INVALID_ARGUMENT,
          "DAPR_LOCK_NOT_FOUND",
          "lock store nostore is not found",
        ],
        [
          "TryLockAlpha1",
          { storeName: "lockstore", resourceId: "r||", lockOwner: "a", expiryInSeconds: 5 },
          grpc.status.INTERNAL,
          "DAPR_LOCK_TRY_LOCK",
          "failed to try acquiring lock: input key/keyPrefix 'r||' can't contain '||'",
        ],
        [
          "UnlockAlpha1",
          { storeName: "lockstore", resourceId: "r||", lockOwner: "a" },
          grpc.status.INTERNAL,
          "DAPR_LOCK_UNLOCK",
          "failed to release lock: input key/keyPrefix 'r||' can't contain '||'",
        ],
        [
          "UnlockAlpha1",
          { storeName: "lockstore", resourceId: "r" },
          grpc.status.INVALID_ARGUMENT,
          "DAPR_LOCK_LOCK_OWNER_EMPTY",
          "LockOwner is empty in lock store lockstore",
        ],
      ];
      for (const [method, request, code, reason, message] of cases) {
        const e = await grpcFailure(raw, method, request, md);
        expect([e.code, e.reason, e.details], `${method} ${JSON.stringify(request)}`).toEqual([
          code,
          reason,
          message,
        ]);
      }
    });

    it("/v1.0/metadata and gRPC GetMetadata list the lock component", async () => {
      const doc = (await (await fetch(`http://127.0.0.1:${s.httpPort}/v1.0/metadata`)).json()) as {
        components: { name: string; type: string; version: string }[];
      };
      expect(doc.components).toContainEqual(
        expect.objectContaining({
          name: "lockstore",
          type: yaml.split("type: ")[1]?.split("\n")[0],
          version: "v1",
        }),
      );
      const meta = await grpcClient.metadata.get();
      expect(meta.components.map((c) => c.name)).toContain("lockstore");
    });
  });
}

describe("lock without a lock store", () => {
  let s: Sidecar;
  let raw: RawDaprClient;
  beforeAll(async () => {
    s = await sidecar({ appId: "no-lock", grpcPort: 0 });
    const { dapr } = daprProtos();
    raw = new dapr.dapr.proto.runtime.v1.Dapr(
      `127.0.0.1:${s.grpcPort}`,
      grpc.credentials.createInsecure(),
    ) as unknown as RawDaprClient;
  });
  afterAll(async () => {
    raw?.close();
    await s?.stop();
  });

  it("HTTP: 500 ERR_LOCK_STORE_NOT_CONFIGURED, not ERR_DIRECT_INVOKE or 501", async () => {
    for (const path of ["lock", "unlock"]) {
      const res = await fetch(`http://127.0.0.1:${s.httpPort}/v1.0-alpha1/${path}/lockstore`, {
        method: "POST",
        body: JSON.stringify({ resourceId: "r", lockOwner: "a", expiryInSeconds: 5 }),
      });
      expect(res.status).toBe(500);
      expect(await res.json()).toEqual({
        errorCode: "ERR_LOCK_STORE_NOT_CONFIGURED",
        message: "lock store lockstore is not configured",
      });
    }
  });

  it("gRPC: FAILED_PRECONDITION with reason DAPR_LOCK_NOT_CONFIGURED", async () => {
    const e = await grpcFailure(
      raw,
      "TryLockAlpha1",
      { storeName: "lockstore", resourceId: "r", lockOwner: "a", expiryInSeconds: 5 },
      new grpc.Metadata(),
    );
    expect([e.code, e.reason, e.details]).toEqual([
      grpc.status.FAILED_PRECONDITION,
      "DAPR_LOCK_NOT_CONFIGURED",
      "lock store lockstore is not configured",
    ]);
  });
});

describe("lock keyPrefix", () => {
  it("a keyPrefix containing || stops the sidecar naming the field", async () => {
    const started = sidecar({
      appId: "bad-prefix",
      resources:
        "apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata:\n  name: lockstore\nspec:\n  type: lock.in-memory\n  version: v1\n  metadata:\n    - name: keyPrefix\n      value: a||b\n",
    });
    await expect(started).rejects.toThrow(/keyPrefix.*can't contain '\|\|'/);
  });

  it("keyPrefix none / name / custom: resource ids as daprd builds them", async () => {
    for (const [prefix, expected] of [
      ["none", "lock||r"],
      ["name", "lock||lockstore||r"],
      ["shared", "lock||shared||r"],
    ] as const) {
      const s = await sidecar({
        appId: "prefix-app",
        resources: `apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata:\n  name: lockstore\nspec:\n  type: lock.in-memory\n  version: v1\n  metadata:\n    - name: keyPrefix\n      value: ${prefix}\n`,
      });
      try {
        const res = await fetch(`http://127.0.0.1:${s.httpPort}/v1.0-alpha1/lock/lockstore`, {
          method: "POST",
          body: JSON.stringify({ resourceId: "r", lockOwner: "a", expiryInSeconds: 5 }),
        });
        expect(await res.json()).toEqual({ success: true });
        const inner = s.runtime.lockStore("lockstore").inner;
        expect(await inner.unlock({ resourceId: expected, lockOwner: "a" }), prefix).toEqual({
          status: 0,
        });
      } finally {
        await s.stop();
      }
    }
  });
});
