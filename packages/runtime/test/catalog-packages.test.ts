// A component package other than the reference one, resolved the way users get it: through the
// generated catalog and a dynamic import, with no manifest passed in.
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { silentLogger } from "@outrig/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  CATALOG,
  CATALOG_ALIASES,
  createRegistry,
  type Sidecar,
  startSidecar,
} from "../src/index.ts";

let s: Sidecar;
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "outrig-sqlite-"));
  s = await startSidecar({
    appId: "catalog-app",
    httpPort: 0,
    logger: silentLogger,
    registry: createRegistry({ discover: false }),
    resources: `
apiVersion: dapr.io/v1alpha1
kind: Component
metadata:
  name: durable
spec:
  type: state.sqlite
  version: v1
  metadata:
    - name: connectionString
      value: ${join(dir, "state.db")}
`,
  });
});
afterAll(() => s?.stop());

describe("a catalog package through the sidecar", () => {
  it("loads state.sqlite from @outrig/sqlite and serves it over HTTP", async () => {
    expect(CATALOG["state.sqlite"]).toBe("@outrig/sqlite");
    const save = await fetch(`${s.url}/v1.0/state/durable`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify([{ key: "user-1", value: { name: "Alice", score: 42 } }]),
    });
    expect(save.status).toBe(204);
    const get = await fetch(`${s.url}/v1.0/state/durable/user-1`);
    expect(get.status).toBe(200);
    expect(get.headers.get("etag")).toBeTruthy();
    expect(await get.json()).toEqual({ name: "Alice", score: 42 });
    const meta = (await (await fetch(`${s.url}/v1.0/metadata`)).json()) as {
      components: { type: string; capabilities: string[] }[];
    };
    expect(meta.components[0]).toMatchObject({
      type: "state.sqlite",
      capabilities: expect.arrayContaining(["ETAG", "TRANSACTIONAL"]),
    });
  });

  it("accepts the other names Dapr registers a type under, through the catalog's aliases", async () => {
    expect(CATALOG_ALIASES).toMatchObject({
      "bindings.postgres": "bindings.postgresql",
      "state.postgres": "state.postgresql",
      "state.sqlite3": "state.sqlite",
      "pubsub.mqtt": "pubsub.mqtt3",
      "bindings.mqtt": "bindings.mqtt3",
    });
    const aliased = await startSidecar({
      appId: "alias-app",
      httpPort: 0,
      logger: silentLogger,
      registry: createRegistry({ discover: false }),
      resources: `
apiVersion: dapr.io/v1alpha1
kind: Component
metadata:
  name: legacy
spec:
  type: state.sqlite3
  version: v1
  metadata:
    - name: connectionString
      value: ${join(dir, "alias.db")}
`,
    });
    try {
      const save = await fetch(`${aliased.url}/v1.0/state/legacy`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify([{ key: "k", value: 1 }]),
      });
      expect(save.status).toBe(204);
      expect(await (await fetch(`${aliased.url}/v1.0/state/legacy/k`)).json()).toBe(1);
    } finally {
      await aliased.stop();
    }
  });

  it("reports an invalid option of the package with its file, document and field", async () => {
    const error = await startSidecar({
      appId: "x",
      httpPort: 0,
      logger: silentLogger,
      resources:
        "kind: Component\nmetadata:\n  name: broken\nspec:\n  type: state.sqlite\n  version: v1\n",
    }).then(
      () => undefined,
      (e: unknown) => e as { issues?: { field: string; message: string }[] },
    );
    expect(error?.issues?.[0]).toEqual({
      field:
        "<resources> [document 0] broken (state.sqlite) spec.metadata.connectionString (line 5)",
      message: "is required",
    });
  });
});
