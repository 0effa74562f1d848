import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ConfigError, type Logger, toBytes, utf8 } from "@outrig/core";
import { describe, expect, it } from "vitest";
import {
  CATALOG,
  createRegistry,
  createRuntime,
  loadResources,
  parseResources,
} from "../src/index.ts";
import { componentYaml } from "./fixtures/component-yaml.ts";
import { manifest as testBindings } from "./fixtures/test-bindings.ts";

const component = componentYaml;

function configError(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error("expected a ConfigError");
}

async function configErrorOf(promise: Promise<unknown>): Promise<ConfigError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ConfigError);
  return error as ConfigError;
}

describe("parseResources", () => {
  it("reads every kind from several documents", () => {
    const r = parseResources(`${component("statestore", "state.in-memory")}
---
apiVersion: dapr.io/v2alpha1
kind: Subscription
metadata:
  name: orders-sub
spec:
  pubsubname: pubsub
  topic: orders
  routes:
    rules:
      - match: event.type == "order"
        path: /orders
    default: /other
  deadLetterTopic: dead
  bulkSubscribe:
    enabled: true
    maxMessagesCount: 10
scopes: [app1]
---
apiVersion: dapr.io/v1alpha1
kind: Subscription
metadata:
  name: legacy
spec:
  pubsubname: pubsub
  topic: legacy
  route: /legacy
---
apiVersion: dapr.io/v1alpha1
kind: Resiliency
metadata:
  name: res
spec:
  policies:
    timeouts:
      general: 5s
    retries:
      pubsubRetry:
        policy: exponential
        maxRetries: 3
  targets:
    components:
      pubsub:
        inbound:
          retry: pubsubRetry
---
apiVersion: dapr.io/v1alpha1
kind: Configuration
metadata:
  name: cfg
spec:
  features:
    - name: Feature1
      enabled: true
---
apiVersion: dapr.io/v1alpha1
kind: HTTPEndpoint
metadata:
  name: billing
spec:
  baseUrl: http://billing.local:8080/api
  headers:
    - name: x-key
      value: k1
    - name: x-secret
      secretKeyRef:
        name: s
        key: k
    - name: x-env
      envRef: HOME
  clientTLS:
    certificate:
      value: c
    renegotiation: RenegotiateNever
  timeout: 5s
auth:
  secretStore: vault
`);
    expect(r.httpEndpoints).toMatchObject([
      {
        name: "billing",
        baseUrl: "http://billing.local:8080/api",
        headers: { "x-key": "k1" },
        secretHeaders: [{ name: "x-secret", secretKeyRef: { name: "s", key: "k" } }],
        clientTLS: { certificate: { value: "c" } },
        secretStore: "vault",
        unsupported: [
          "spec.timeout",
          "spec.headers.x-env (only value and secretKeyRef are applied)",
          "spec.clientTLS.renegotiation",
        ],
      },
    ]);
    expect(r.components).toHaveLength(1);
    expect(r.components[0]).toMatchObject({
      name: "statestore",
      type: "state.in-memory",
      version: "v1",
      initTimeoutMs: 5000,
      ignoreErrors: false,
    });
    expect(r.subscriptions[0]).toMatchObject({
      topic: "orders",
      rules: [
        { match: 'event.type == "order"', path: "/orders" },
        { match: "", path: "/other" },
      ],
      deadLetterTopic: "dead",
      bulkSubscribe: { enabled: true, maxMessagesCount: 10 },
      scopes: ["app1"],
    });
    expect(r.subscriptions[1]?.rules).toEqual([{ match: "", path: "/legacy" }]);
    expect(r.resiliencies[0]?.spec.policies?.retries?.pubsubRetry?.maxRetries).toBe(3);
    expect(r.configurations[0]?.spec.features).toEqual([{ name: "Feature1", enabled: true }]);
  });

  it("names file, document, field and line for invalid YAML and invalid fields", () => {
    const bad = configError(() =>
      parseResources(
        `${component("ok", "state.in-memory")}\n---\nkind: Component\nmetadata:\n  name: x\nspec:\n  type: notatype\n`,
        "comps.yaml",
      ),
    );
    expect(bad.issues).toHaveLength(1);
    expect(bad.issues[0]?.field).toBe("comps.yaml [document 1] spec.type (line 16)");
    expect(bad.issues[0]?.message).toContain("<block>.<impl>");
    const yaml = configError(() =>
      parseResources("kind: Component\n  bad: [indent", "broken.yaml"),
    );
    expect(yaml.issues[0]?.field).toMatch(/^broken\.yaml \[document 0\] \(yaml\) \(line \d+\)$/);
    const resiliency = configError(() =>
      parseResources(
        "kind: Resiliency\nmetadata:\n  name: r\nspec:\n  policies:\n    timeouts:\n      general: soon\n",
        "res.yaml",
      ),
    );
    expect(resiliency.issues[0]?.field).toBe(
      "res.yaml [document 0] spec.policies.timeouts.general (line 7)",
    );
  });

  it("loads every YAML file of a directory", async () => {
    const dir = await mkdtemp(join(tmpdir(), "outrig-res-"));
    await writeFile(join(dir, "a.yaml"), component("a", "state.in-memory"));
    await writeFile(join(dir, "b.yml"), component("b", "pubsub.in-memory"));
    await writeFile(join(dir, "notes.txt"), "not yaml");
    const r = await loadResources([dir]);
    expect(r.components.map((c) => c.name)).toEqual(["a", "b"]);
  });

  it("fails on a missing path, or reports and skips it when asked", async () => {
    const missing = join(tmpdir(), "outrig-no-such-dir");
    await expect(loadResources([missing])).rejects.toBeInstanceOf(ConfigError);
    const skipped: string[] = [];
    const r = await loadResources([missing], { onMissing: (p) => skipped.push(p) });
    expect(r.components).toEqual([]);
    expect(skipped).toEqual([missing]);
  });
});

describe("component start-up", () => {
  it("expands environment placeholders, envRef, {appID} and secretKeyRef through a secret store", async () => {
    const dir = await mkdtemp(join(tmpdir(), "outrig-sec-"));
    await writeFile(join(dir, "s.json"), JSON.stringify({ queue: { password: "from-file" } }));
    process.env.OUTRIG_TEST_ROUTE = "in-route";
    process.env.OUTRIG_TEST_DIRECTION = "input";
    const runtime = await createRuntime({
      appId: "lib",
      registry: createRegistry({ manifests: [testBindings] }),
      resources: `${component("secrets", "secretstores.local.file", `\n    - name: secretsFile\n      value: ${join(dir, "s.json")}`)}
---
apiVersion: dapr.io/v1alpha1
kind: Component
metadata:
  name: q
spec:
  type: bindings.test-queue
  version: v1
  metadata:
    - name: route
      value: /\${OUTRIG_TEST_ROUTE}/{appID}
    - name: direction
      envRef: OUTRIG_TEST_DIRECTION
    - name: password
      secretKeyRef:
        name: queue:password
auth:
  secretStore: secrets
`,
    });
    try {
      const q = runtime.components.find((c) => c.name === "q");
      expect(q?.metadata).toEqual({
        route: "/in-route/lib",
        direction: "input",
        password: "from-file",
      });
      expect(q?.capabilities).toEqual(["INPUT_BINDING", "OUTPUT_BINDING"]);
    } finally {
      await runtime.close();
    }
  });

  it("fails with the file, document, component and field when metadata is invalid", async () => {
    const error = await configErrorOf(
      createRuntime({
        appId: "a",
        resources: component(
          "mem",
          "state.in-memory",
          "\n    - name: cleanupInterval\n      value: soon",
        ),
      }),
    );
    expect(error.issues[0]?.field).toBe(
      "<resources> [document 0] mem (state.in-memory) spec.metadata.cleanupInterval (line 10)",
    );
  });

  it("reports a missing environment variable", async () => {
    delete process.env.OUTRIG_TEST_NOPE;
    const error = await configErrorOf(
      createRuntime({
        appId: "a",
        resources: component(
          "mem",
          "state.in-memory",
          "\n    - name: keyPrefix\n      value: \u0024{OUTRIG_TEST_NOPE}",
        ),
      }),
    );
    expect(error.issues[0]?.message).toBe("environment variable OUTRIG_TEST_NOPE is not set");
  });

  it("names the package to install for an uninstalled type, and rejects unknown types", async () => {
    const registry = createRegistry({
      catalog: { "state.redis": "@outrig/not-installed-redis" },
      discover: false,
    });
    const missing = await configErrorOf(
      createRuntime({ appId: "a", registry, resources: component("r", "state.redis") }),
    );
    expect(missing.issues[0]?.message).toBe(
      "state.redis is provided by @outrig/not-installed-redis: pnpm add @outrig/not-installed-redis",
    );
    const unknown = await configErrorOf(
      createRuntime({ appId: "a", registry, resources: component("u", "state.nosuch") }),
    );
    expect(unknown.issues[0]?.message).toContain("unknown component type state.nosuch");
  });

  it("resolves state.in-memory through the generated catalog", async () => {
    expect(CATALOG["state.in-memory"]).toBe("@outrig/memory");
    const def = await createRegistry().resolve("state.in-memory", "v1");
    expect(def.kind).toBe("state");
  });

  it("skips components out of scope and ones with ignoreErrors that fail", async () => {
    const warnings: string[] = [];
    const logger: Logger = { debug() {}, info() {}, warn: (m) => warnings.push(m), error() {} };
    const runtime = await createRuntime({
      appId: "me",
      logger,
      resources: `${component("mine", "state.in-memory")}
---
${component("theirs", "state.in-memory")}
scopes: [someone-else]
---
apiVersion: dapr.io/v1alpha1
kind: Component
metadata:
  name: broken
spec:
  type: state.in-memory
  version: v1
  ignoreErrors: true
  metadata:
    - name: cleanupInterval
      value: soon
`,
    });
    try {
      expect(runtime.names("state")).toEqual(["mine"]);
      expect(warnings.join()).toContain("ignoreErrors");
    } finally {
      await runtime.close();
    }
  });

  it("never logs sensitive metadata", async () => {
    const lines: string[] = [];
    const logger: Logger = {
      debug: (m, f) => lines.push(m + JSON.stringify(f)),
      info: (m, f) => lines.push(m + JSON.stringify(f)),
      warn: (m, f) => lines.push(m + JSON.stringify(f)),
      error: (m, f) => lines.push(m + JSON.stringify(f)),
    };
    const runtime = await createRuntime({
      appId: "a",
      logger,
      registry: createRegistry({ manifests: [testBindings] }),
      resources: component(
        "q",
        "bindings.test-queue",
        "\n    - name: password\n      value: hunter2",
      ),
    });
    await runtime.close();
    expect(lines.length).toBeGreaterThan(0);
    expect(lines.join("\n")).not.toContain("hunter2");
  });
});

describe("sidecar start-up failures", () => {
  it("rejects with the ConfigError and listens on nothing", async () => {
    const { freePort, sidecar } = await import("./helpers.ts");
    const port = await freePort();
    const error = await configErrorOf(
      sidecar({ httpPort: port, resources: component("x", "state.nosuch") }),
    );
    expect(error.issues[0]?.field).toContain("[document 0]");
    await expect(fetch(`http://127.0.0.1:${port}/v1.0/healthz`)).rejects.toThrow();
  });
});

describe("library mode", () => {
  it("gives in-process access to state, publish and bindings with the sidecar's semantics", async () => {
    const runtime = await createRuntime({
      appId: "lib",
      registry: createRegistry({ manifests: [testBindings] }),
      resources: `${component("statestore", "state.in-memory")}\n---\n${component("pubsub", "pubsub.in-memory")}\n---\n${component("q", "bindings.test-queue")}`,
    });
    try {
      const store = runtime.stateStore("statestore");
      await store.set({ key: "k", value: { a: 1 } });
      expect(utf8((await store.get({ key: "k" })).data ?? new Uint8Array())).toBe('{"a":1}');
      expect((await store.component.get({ key: "lib||k" })).data).not.toBeNull();
      await expect(store.get({ key: "a||b" })).rejects.toMatchObject({
        code: "ERR_INVALID_REQUEST",
      });

      const got: unknown[] = [];
      const abort = new AbortController();
      await runtime.pubsub("pubsub").subscribe({ topic: "t", signal: abort.signal }, async (m) => {
        got.push(JSON.parse(utf8(m.data)));
      });
      await runtime.publish("pubsub", "t", { hello: "lib" });
      await expect.poll(() => got.length).toBe(1);
      expect(got[0]).toMatchObject({
        source: "lib",
        topic: "t",
        pubsubname: "pubsub",
        data: { hello: "lib" },
        datacontenttype: "application/json",
      });
      abort.abort();

      const echoed = await runtime.invokeBinding("q", "echo", toBytes("raw"));
      expect(utf8(echoed.data ?? new Uint8Array())).toBe("raw");
      expect(() => runtime.pubsub("nope")).toThrow(/not configured/);
    } finally {
      await runtime.close();
    }
  });
});
