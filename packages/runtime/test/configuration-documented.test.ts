// Nothing in a Configuration resource is accepted and silently ignored: one resource holding every
// field of Dapr's documented Configuration spec (the sidecar format of the Configuration spec
// page, its control-plane `mtls`, and the fields daprd's ConfigurationSpec reads beside them:
// `metric`, `api.denied`, `logging`, `wasm`, `workflow`, `otel.headers` / `timeout`, ...) is
// loaded by a real sidecar. Every leaf field of it is either applied (checked on the compiled
// settings or on the running sidecar) or named by a start-up warning (itself or its section).

import * as grpc from "@grpc/grpc-js";
import type { Logger } from "@outrig/core";
import { silentLogger } from "@outrig/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { daprProtos } from "../src/grpc/protos.ts";
import { hotReloadDisabledBy } from "../src/hot-reload/hot-reloader.ts";
import { type Sidecar, startSidecar } from "../src/index.ts";
import { metricsConfig } from "../src/metrics/metrics-config.ts";
import { parseResources } from "../src/resources/parse.ts";
import { tracingConfig } from "../src/tracing/tracing-config.ts";
import { workflowLimits } from "../src/workflows/limits.ts";
import { until } from "./helpers.ts";

const DOCUMENTED = `apiVersion: dapr.io/v1alpha1
kind: Configuration
metadata:
  name: documented
  namespace: default
spec:
  api:
    allowed:
      - name: state
        version: v1
        protocol: grpc
    denied:
      - name: publish
        version: v1.0
        protocol: http
  tracing:
    samplingRate: "1"
    stdout: true
    zipkin:
      endpointAddress: http://127.0.0.1:1/api/v2/spans
    otel:
      endpointAddress: 127.0.0.1:1
      isSecure: false
      protocol: http
      headers: team=checkout
      timeout: 2000
  metric:
    enabled: false
  metrics:
    enabled: false
    rules:
      - name: dapr_runtime_service_invocation_req_sent_total
        labels:
          - name: method
            regex:
              "orders/": "orders/.+"
    recordErrorCodes: true
    latencyDistributionBuckets:
      - 5
      - 50
      - 500
    http:
      increasedCardinality: true
      pathMatching:
        - /orders/{orderID}
      excludeVerbs: true
  httpPipeline:
    handlers:
      - name: uppercase
        type: middleware.http.uppercase
        version: v1
        selector:
          fields:
            - field: method
              value: GET
  appHttpPipeline:
    handlers:
      - name: oauth2
        type: middleware.http.oauth2
  nameResolution:
    component: mdns
    version: v1
    configuration:
      selfRegister: true
  secrets:
    scopes:
      - storeName: closedstore
        defaultAccess: deny
      - storeName: denystore
        deniedSecrets: ["CFGDOC_B"]
      - storeName: allowstore
        defaultAccess: deny
        allowedSecrets: ["CFGDOC_A"]
  components:
    deny:
      - bindings.smtp
      - secretstores.local.file/v1
  accessControl:
    defaultAction: deny
    trustDomain: public
    policies:
      - appId: app1
        defaultAction: allow
        trustDomain: public
        namespace: default
        operations:
          - name: /op1
            httpVerb: ["POST", "GET"]
            action: deny
  features:
    - name: HotReload
      enabled: false
    - name: ActorStateTTL
      enabled: true
    - name: SchedulerReminders
      enabled: true
    - name: WorkflowsClusteredDeployment
      enabled: true
  logging:
    apiLogging:
      enabled: true
      obfuscateURLs: true
      omitHealthChecks: true
  wasm:
    strictSandbox: true
  workflow:
    maxConcurrentWorkflowInvocations: 100
    maxConcurrentActivityInvocations: 1000
  mtls:
    enabled: true
    workloadCertTTL: 24h
    allowedClockSkew: 15m
    sentryAddress: localhost:50001
    controlPlaneTrustDomain: cluster.local
    tokenValidators:
      - name: jwks
        options:
          audiences: dapr
`;

/** The env secret stores the secrets scopes name, one prefix each. */
const STORES = ["closedstore", "denystore", "allowstore"]
  .map(
    (name) => `---
apiVersion: dapr.io/v1alpha1
kind: Component
metadata:
  name: ${name}
spec:
  type: secretstores.local.env
  version: v1
  metadata:
    - name: prefix
      value: ${name.toUpperCase()}_
`,
  )
  .join("");

/** Components of the types `spec.components.deny` names: left out, so the sidecar starts. */
const DENIED = `---
apiVersion: dapr.io/v1alpha1
kind: Component
metadata:
  name: mailer
spec:
  type: bindings.smtp
  version: v1
---
apiVersion: dapr.io/v1alpha1
kind: Component
metadata:
  name: filestore
spec:
  type: secretstores.local.file
  version: v1
`;

/**
 * Every leaf of `value` as a dotted path: a mapping's keys and a list of mappings' items are
 * walked into; a scalar, a list of scalars or an empty mapping is a leaf.
 */
function leaves(value: unknown, path: string): string[] {
  if (Array.isArray(value)) {
    if (!value.some((v) => v !== null && typeof v === "object")) return [path];
    return value.flatMap((v, i) => leaves(v, `${path}[${i}]`));
  }
  if (value !== null && typeof value === "object" && Object.keys(value).length > 0)
    return Object.entries(value).flatMap(([k, v]) => leaves(v, `${path}.${k}`));
  return [path];
}

const [config] = parseResources(DOCUMENTED, "configuration.yaml").configurations;
if (!config) throw new Error("the documented Configuration did not parse");
const configs = [config];

let sidecar: Sidecar;
const warned: string[] = [];
const apiLog: { path?: unknown }[] = [];
const spanLines: string[] = [];
const deniedComponents: string[] = [];

async function secretStatus(store: string, key: string): Promise<number> {
  const res = await fetch(`${sidecar.url}/v1.0/secrets/${store}/${key}`);
  await res.arrayBuffer();
  return res.status;
}

/** A unary call of the sidecar's gRPC API: its status code (0 when it succeeded). */
async function grpcCode(method: string, request: object): Promise<number> {
  const { dapr } = daprProtos();
  const raw = new dapr.dapr.proto.runtime.v1.Dapr(
    `127.0.0.1:${sidecar.grpcPort}`,
    grpc.credentials.createInsecure(),
  ) as unknown as Record<string, (...a: unknown[]) => void>;
  try {
    return await new Promise<number>((resolve) =>
      raw[method]?.(request, new grpc.Metadata(), (e: grpc.ServiceError | null) =>
        resolve(e?.code ?? 0),
      ),
    );
  } finally {
    (raw as unknown as grpc.Client).close();
  }
}

/** The allow list (gRPC state v1): state answers, any other gRPC API is refused. */
async function grpcAllowList(): Promise<void> {
  expect(await grpcCode("GetState", { storeName: "nostore", key: "k" })).not.toBe(
    grpc.status.UNIMPLEMENTED,
  );
  expect(await grpcCode("GetMetadata", {})).toBe(grpc.status.UNIMPLEMENTED);
}

/** The deny list (HTTP publish v1.0): the route is gone, the invoke fallback answers. */
async function httpDenyList(): Promise<void> {
  const res = await fetch(`${sidecar.url}/v1.0/publish/pubsub/orders`, { method: "POST" });
  expect(res.status).toBe(404);
  expect(((await res.json()) as { errorCode: string }).errorCode).toBe("ERR_DIRECT_INVOKE");
}

/** What shows that each applied field is applied, by its path in DOCUMENTED. */
const APPLIED: Record<string, () => void | Promise<void>> = {
  // api-allowlist.test.ts checks both lists on both protocols, with daprd's exact answers.
  "spec.api.allowed[0].name": grpcAllowList,
  "spec.api.allowed[0].version": grpcAllowList,
  "spec.api.allowed[0].protocol": grpcAllowList,
  "spec.api.denied[0].name": httpDenyList,
  "spec.api.denied[0].version": httpDenyList,
  "spec.api.denied[0].protocol": httpDenyList,
  "spec.tracing.samplingRate": () => expect(tracingConfig(configs).samplingRate).toBe(1),
  "spec.tracing.stdout": async () => {
    await secretStatus("denystore", "CFGDOC_A");
    expect(await until(() => spanLines.find((l) => l.startsWith("[/v1.0/secrets/")))).toBeTruthy();
  },
  "spec.tracing.zipkin.endpointAddress": () =>
    expect(tracingConfig(configs).zipkin).toBe("http://127.0.0.1:1/api/v2/spans"),
  "spec.tracing.otel.endpointAddress": () =>
    expect(tracingConfig(configs).otel?.url).toBe("http://127.0.0.1:1/v1/traces"),
  "spec.tracing.otel.isSecure": () =>
    expect(tracingConfig(configs).otel?.url.startsWith("http:")).toBe(true),
  "spec.tracing.otel.protocol": () => expect(tracingConfig(configs).otel?.protocol).toBe("http"),
  "spec.tracing.otel.headers": () =>
    expect(tracingConfig(configs).otel?.headers).toEqual({ team: "checkout" }),
  "spec.tracing.otel.timeout": () => expect(tracingConfig(configs).otel?.timeoutMs).toBe(2000),
  // The older section alone turns metrics off too; beside `metrics`, that one wins.
  "spec.metric.enabled": () =>
    expect(metricsConfig([{ ...config, spec: { metric: config.spec.metric } }]).enabled).toBe(
      false,
    ),
  "spec.metrics.enabled": () => {
    expect(metricsConfig(configs).enabled).toBe(false);
    expect(sidecar.metricsPort).toBeUndefined();
  },
  // Applied to every latency histogram: a sidecar with these buckets exports exactly them.
  "spec.metrics.latencyDistributionBuckets": async () => {
    expect(metricsConfig(configs).latencyBuckets).toEqual([5, 50, 500]);
    const metrics = config.spec.metrics as Record<string, unknown>;
    const measured = await startSidecar({
      appId: "cfgdoc-buckets",
      httpPort: 0,
      metricsPort: 0,
      logger: silentLogger,
      resources: `apiVersion: dapr.io/v1alpha1
kind: Configuration
metadata:
  name: buckets
spec:
  metrics:
    latencyDistributionBuckets: ${JSON.stringify(metrics.latencyDistributionBuckets)}
`,
    });
    try {
      expect((await fetch(`${measured.url}/v1.0/metadata`)).status).toBe(200);
      const text = await (await fetch(`http://127.0.0.1:${measured.metricsPort}/metrics`)).text();
      const bounds = [
        ...text.matchAll(/^dapr_http_server_latency_bucket\{[^}]*le="([^"]+)"[^}]*\}/gm),
      ].map((m) => m[1]);
      expect([...new Set(bounds)]).toEqual(["5", "50", "500", "+Inf"]);
    } finally {
      await measured.stop();
    }
  },
  "spec.metrics.http.increasedCardinality": () =>
    expect(metricsConfig(configs).increasedCardinality).toBe(true),
  // Compiled here; metrics-config.test.ts scrapes sidecars for each of these.
  "spec.metrics.http.pathMatching": () =>
    expect(metricsConfig(configs).pathMatching).toEqual(["/orders/{orderID}"]),
  "spec.metrics.http.excludeVerbs": () => expect(metricsConfig(configs).excludeVerbs).toBe(true),
  "spec.metrics.recordErrorCodes": () => expect(metricsConfig(configs).recordErrorCodes).toBe(true),
  "spec.metrics.rules[0].name": () =>
    expect(metricsConfig(configs).rules[0]?.name).toBe(
      "dapr_runtime_service_invocation_req_sent_total",
    ),
  "spec.metrics.rules[0].labels[0].name": () =>
    expect(metricsConfig(configs).rules[0]?.labels[0]?.name).toBe("method"),
  "spec.metrics.rules[0].labels[0].regex.orders/": () => {
    const [pair] = metricsConfig(configs).rules[0]?.labels[0]?.replacements ?? [];
    expect("orders/a746dhsk293972nz".replace(pair?.regex ?? /(?!)/, pair?.replacement ?? "")).toBe(
      "orders/",
    );
  },
  // closedstore: deny by default; denystore: allow but the denied one; allowstore: only the list.
  "spec.secrets.scopes[0].storeName": async () =>
    expect(await secretStatus("closedstore", "CFGDOC_A")).toBe(403),
  "spec.secrets.scopes[0].defaultAccess": async () =>
    expect(await secretStatus("closedstore", "CFGDOC_B")).toBe(403),
  "spec.secrets.scopes[1].storeName": async () =>
    expect(await secretStatus("denystore", "CFGDOC_A")).toBe(200),
  "spec.secrets.scopes[1].deniedSecrets": async () =>
    expect(await secretStatus("denystore", "CFGDOC_B")).toBe(403),
  "spec.secrets.scopes[2].storeName": async () =>
    expect(await secretStatus("allowstore", "CFGDOC_B")).toBe(403),
  "spec.secrets.scopes[2].defaultAccess": async () =>
    expect(await secretStatus("allowstore", "CFGDOC_C")).toBe(403),
  "spec.secrets.scopes[2].allowedSecrets": async () =>
    expect(await secretStatus("allowstore", "CFGDOC_A")).toBe(200),
  "spec.features[0].name": () => expect(hotReloadDisabledBy(configs, "cfgdoc")).toBe(config),
  "spec.features[0].enabled": () => expect(hotReloadDisabledBy(configs, "cfgdoc")).toBe(config),
  "spec.features[1].name": async () => expect(await enabledFeatures()).toContain("ActorStateTTL"),
  "spec.features[1].enabled": async () =>
    expect(await enabledFeatures()).toContain("ActorStateTTL"),
  "spec.features[2].name": async () =>
    expect(await enabledFeatures()).toContain("SchedulerReminders"),
  "spec.features[2].enabled": async () =>
    expect(await enabledFeatures()).toContain("SchedulerReminders"),
  "spec.logging.apiLogging.enabled": () => expect(apiLog.length).toBeGreaterThan(0),
  "spec.logging.apiLogging.obfuscateURLs": () =>
    expect(apiLog.map((l) => l.path)).toContain("/v1.0/secrets/:store/:key"),
  "spec.logging.apiLogging.omitHealthChecks": () =>
    expect(apiLog.map((l) => l.path).filter((p) => String(p).includes("healthz"))).toEqual([]),
  // Neither denied component is loaded (smtp is no type outrig has: loading it would fail).
  "spec.components.deny": async () => {
    expect(deniedComponents.sort()).toEqual(["filestore", "mailer"]);
    const res = await fetch(`${sidecar.url}/v1.0/metadata`);
    const names = ((await res.json()) as { components: { name: string }[] }).components.map(
      (c) => c.name,
    );
    expect(names).toEqual(expect.arrayContaining(["closedstore", "denystore", "allowstore"]));
    expect(names).not.toContain("filestore");
    expect(names).not.toContain("mailer");
  },
  // The engine's caps; workflows-limits.test.ts drives them through the workflow SDK.
  "spec.workflow.maxConcurrentWorkflowInvocations": () =>
    expect(workflowLimits(configs).orchestration).toBe(100),
  "spec.workflow.maxConcurrentActivityInvocations": () =>
    expect(workflowLimits(configs).activity).toBe(1000),
  "metadata.name": () => expect(config.name).toBe("documented"),
};

/**
 * Fields daprd does not apply either: a self-hosted daprd loads its Configuration by file
 * (`--config`), whatever namespace the file names.
 */
const NOT_APPLIED_BY_DAPR = new Set(["metadata.namespace"]);

async function enabledFeatures(): Promise<string[]> {
  const res = await fetch(`${sidecar.url}/v1.0/metadata`);
  return ((await res.json()) as { enabledFeatures: string[] }).enabledFeatures;
}

describe("Dapr's documented Configuration fields", () => {
  beforeAll(async () => {
    for (const [k, v] of Object.entries({
      CLOSEDSTORE_CFGDOC_A: "a",
      CLOSEDSTORE_CFGDOC_B: "b",
      DENYSTORE_CFGDOC_A: "a",
      DENYSTORE_CFGDOC_B: "b",
      ALLOWSTORE_CFGDOC_A: "a",
      ALLOWSTORE_CFGDOC_B: "b",
      ALLOWSTORE_CFGDOC_C: "c",
    }))
      process.env[k] = v;
    const logger: Logger = {
      ...silentLogger,
      info: (message, fields) => {
        if (message === "HTTP API called") apiLog.push(fields ?? {});
        if (/^\[.+\] Trace: [0-9a-f]{32}$/.test(message)) spanLines.push(message);
      },
      warn: (_message, fields) => {
        if (fields?.kind === "Configuration") warned.push(String(fields.field));
        if (typeof fields?.component === "string" && fields.configuration === "documented")
          deniedComponents.push(fields.component);
      },
    };
    sidecar = await startSidecar({
      appId: "cfgdoc",
      httpPort: 0,
      logger,
      resources: `${DOCUMENTED}${STORES}${DENIED}`,
    });
    for (const path of ["/v1.0/healthz", "/v1.0/healthz/outbound"])
      expect((await fetch(`${sidecar.url}${path}`)).status).toBe(204);
  });
  afterAll(async () => {
    await sidecar?.stop();
  });

  it("warns about exactly the fields it does not apply, by name", () => {
    expect([...warned].sort()).toEqual([
      "spec.accessControl",
      "spec.appHttpPipeline",
      // WorkflowsClusteredDeployment: listed in the metadata API, acted on by nothing.
      "spec.features[3]",
      "spec.httpPipeline",
      "spec.mtls",
      "spec.nameResolution",
      "spec.wasm",
    ]);
  });

  it("applies every other field of the documented resource, observably", async () => {
    const doc = parse(DOCUMENTED) as { metadata: unknown; spec: unknown };
    const all = [...leaves(doc.metadata, "metadata"), ...leaves(doc.spec, "spec")];
    const covered = (field: string) =>
      warned.some((w) => field === w || field.startsWith(`${w}.`) || field.startsWith(`${w}[`));
    const silent: string[] = [];
    for (const field of all) {
      const check = APPLIED[field];
      if (check) {
        expect(covered(field), `${field} is applied and warned about`).toBe(false);
        await check();
      } else if (!covered(field) && !NOT_APPLIED_BY_DAPR.has(field)) silent.push(field);
    }
    expect(silent).toEqual([]);
    // Every check is for a field the resource holds: none is stale.
    expect(Object.keys(APPLIED).filter((f) => !all.includes(f))).toEqual([]);
  });
});
