// Nothing accepted and silently ignored: Resiliency (but app targets' timeouts) and unapplied
// metrics and tracing settings are loaded but not applied yet, so the sidecar warns about each,
// naming the file and the field.
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Logger } from "@outrig/core";
import { describe, expect, it } from "vitest";
import { startSidecar } from "../src/index.ts";

describe("resource settings not applied yet", () => {
  it("warns about each Resiliency policy and target and each tracing / metrics section by file and field", async () => {
    const dir = await mkdtemp(join(tmpdir(), "outrig-unapplied-"));
    const file = join(dir, "resources.yaml");
    await writeFile(
      file,
      `apiVersion: dapr.io/v1alpha1
kind: Resiliency
metadata:
  name: myresiliency
spec:
  policies:
    timeouts:
      general: 5s
    retries:
      retryForever:
        policy: constant
        duration: 5s
        maxRetries: -1
        matching:
          httpStatusCodes: "500-599"
          gRPCStatusCodes: "14"
  targets:
    apps:
      checkout:
        timeout: general
        retry: retryForever
      billing:
        timeout: nosuchpolicy
        retry: nosuchretry
---
apiVersion: dapr.io/v1alpha1
kind: Configuration
metadata:
  name: tracing
spec:
  tracing:
    samplingRate: "1"
    jaeger:
      endpointAddress: localhost:14268
  metrics:
    enabled: true
    latencyDistributionBuckets: ["fast"]
`,
    );
    const warnings: { message: string; fields?: Record<string, unknown> }[] = [];
    const logger: Logger = {
      debug: () => {},
      info: () => {},
      error: () => {},
      warn: (message, fields) => warnings.push({ message, fields }),
    };
    const sidecar = await startSidecar({ appId: "u", httpPort: 0, logger, resourcesPaths: [dir] });
    try {
      const fields = warnings.filter((w) => w.fields?.file === file).map((w) => w.fields?.field);
      // App targets' timeouts, retries (with matching.httpStatusCodes) and breakers, and the
      // policies they name, are applied to invocation; a name with no policy is warned about.
      // spec.metrics.enabled is applied (metrics/metrics-config.ts); buckets that are no
      // numbers are not.
      // spec.tracing.samplingRate is applied (tracing/tracing-config.ts); jaeger is no field of
      // Dapr's TracingSpec.
      expect(fields).toEqual([
        "spec.metrics.latencyDistributionBuckets",
        "spec.tracing.jaeger",
        "spec.targets.apps.billing.timeout",
        "spec.targets.apps.billing.retry",
      ]);
      expect(warnings.map((w) => w.message)).toContain(
        "Resiliency setting not applied yet: spec.targets.apps.billing.retry",
      );
    } finally {
      await sidecar.stop();
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe("Configuration sections outrig does not apply", () => {
  it("warns about each by name instead of accepting it silently (Dapr's documented sections)", async () => {
    const warnings: unknown[] = [];
    const logger: Logger = {
      debug: () => {},
      info: () => {},
      error: () => {},
      warn: (_message, fields) => warnings.push(fields?.field),
    };
    const sidecar = await startSidecar({
      appId: "u",
      httpPort: 0,
      logger,
      resources: `apiVersion: dapr.io/v1alpha1
kind: Configuration
metadata:
  name: daprConfig
spec:
  features:
    - name: SchedulerReminders
      enabled: true
  secrets:
    scopes:
      - storeName: local
        defaultAccess: deny
  logging:
    apiLogging:
      enabled: true
  accessControl:
    defaultAction: deny
  api:
    allowed:
      - name: state
        version: v1.0
  nameResolution:
    component: mdns
  httpPipeline:
    handlers:
      - name: oauth2
        type: middleware.http.oauth2
  mtls:
    enabled: true
`,
    });
    try {
      // spec.logging.apiLogging is applied (http/api-logging-config.ts).
      expect(warnings).toEqual([
        "spec.accessControl",
        "spec.nameResolution",
        "spec.httpPipeline",
        "spec.mtls",
        // The api lists are applied; a rule naming no protocol reaches neither server.
        "spec.api.allowed[0].protocol",
      ]);
    } finally {
      await sidecar.stop();
    }
  });
});
