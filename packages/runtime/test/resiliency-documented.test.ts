// Nothing in a Resiliency resource is accepted and silently ignored: a resource with every field
// of Dapr's documented spec (the resiliency overview's complete example, and a typo beside it)
// is loaded by a real sidecar; each field is either applied (checked on the compiled policies)
// or warned about by file and field.
import type { Logger } from "@outrig/core";
import { silentLogger } from "@outrig/core";
import { afterEach, describe, expect, it } from "vitest";
import { type Sidecar, startSidecar } from "../src/index.ts";
import { appInvocationTimeouts } from "../src/resiliency/app-timeouts.ts";
import { ResiliencyPolicies } from "../src/resiliency/policies.ts";
import { parseResources } from "../src/resources/parse.ts";

const DOCUMENTED = `apiVersion: dapr.io/v1alpha1
kind: Resiliency
metadata:
  name: myresiliency
scopes:
  - checkout
spec:
  policies:
    timeouts:
      general: 5s
      important: 60s
      largeResponse: 10s
    retries:
      pubsubRetry:
        policy: constant
        duration: 5s
        maxRetries: 10
      retryForever:
        policy: exponential
        maxInterval: 15s
        maxRetries: -1
      important:
        policy: constant
        duration: 5s
        maxRetries: 30
        matching:
          httpStatusCodes: "429,500-599"
          gRPCStatusCodes: "1-4,8-11,13,14"
    circuitBreakers:
      simpleCB:
        maxRequests: 1
        timeout: 30s
        trip: consecutiveFailures >= 5
      pubsubCB:
        maxRequests: 1
        interval: 8s
        timeout: 45s
        trip: consecutiveFailures > 8
  targets:
    apps:
      appB:
        timeout: general
        retry: important
        circuitBreaker: simpleCB
    actors:
      myActorType:
        timeout: general
        retry: important
        circuitBreaker: simpleCB
        circuitBreakerScope: both
        circuitBreakerCacheSize: 5000
    components:
      statestore1:
        outbound:
          timeout: general
          retry: retryForever
          circuitBreaker: simpleCB
      pubsub2:
        outbound:
          retry: pubsubRetry
          circuitBreaker: pubsubCB
        inbound:
          timeout: general
          retry: important
          circuitBreaker: pubsubCB
`;

const TYPO = `apiVersion: dapr.io/v1alpha1
kind: Resiliency
metadata:
  name: typos
  labels:
    team: checkout
spec:
  policies:
    retries:
      quick:
        policy: constant
        maxRetires: 3
  targets:
    apps:
      appC:
        retry: quick
        circuitbreaker: nosuch
    actors:
      Ghost:
        retry: nosuch
        circuitBreakerCacheSize: 10
`;

const started: Sidecar[] = [];
afterEach(async () => {
  await Promise.all(started.splice(0).map((s) => s.stop()));
});

describe("Dapr's documented Resiliency fields", () => {
  it("applies or warns about every field, by file and field", async () => {
    const warned: string[] = [];
    const logger: Logger = {
      ...silentLogger,
      warn: (_message, fields) => {
        if (fields?.kind === "Resiliency") warned.push(`${fields.name}: ${fields.field}`);
      },
    };
    const s = await startSidecar({
      appId: "checkout",
      httpPort: 0,
      logger,
      resources: `${DOCUMENTED}---\n${TYPO}`,
    });
    started.push(s);
    expect(warned.sort()).toEqual([
      // The two timeouts no target names.
      "myresiliency: spec.policies.timeouts.important",
      "myresiliency: spec.policies.timeouts.largeResponse",
      // Fields no schema knows are named, not dropped in silence.
      "typos: metadata.labels",
      "typos: spec.policies.retries.quick.maxRetires",
      "typos: spec.targets.actors.Ghost.retry",
      "typos: spec.targets.apps.appC.circuitbreaker",
    ]);
  });

  it("compiles what it applies: app, component and actor targets with the policies they name", async () => {
    const { resiliencies } = parseResources(DOCUMENTED, "resiliency.yaml");
    expect(appInvocationTimeouts(resiliencies, "checkout").get("appB")).toBe(5000);
    const policies = await ResiliencyPolicies.load(resiliencies, "checkout", silentLogger);
    const appB = policies.app("appB");
    expect(appB?.retry).toMatchObject({ name: "important", durationMs: 5000, maxRetries: 30 });
    expect(appB?.retry?.httpStatusCodes?.(429)).toBe(true);
    expect(appB?.retry?.httpStatusCodes?.(404)).toBe(false);
    expect(appB?.retry?.grpcStatusCodes?.(14)).toBe(true);
    expect(appB?.retry?.grpcStatusCodes?.(5)).toBe(false);
    expect(appB?.breaker).toBeDefined();
    const store = policies.componentOutbound("statestore1");
    expect(store).toMatchObject({
      timeoutMs: 5000,
      retry: { name: "retryForever", policy: "exponential", maxIntervalMs: 15_000, maxRetries: -1 },
    });
    expect(policies.componentInbound("pubsub2")).toMatchObject({
      timeoutMs: 5000,
      retry: { name: "important" },
    });
    expect(policies.componentOutbound("pubsub2")?.retry?.name).toBe("pubsubRetry");
    const actor = policies.actor("myActorType");
    expect(actor).toMatchObject({ timeoutMs: 5000, retry: { name: "important", maxRetries: 30 } });
    // Scope both: a breaker for each id beside the type.s one.
    expect(actor?.breaker("a")).toBeDefined();
    // A type without a target and no DefaultActor*Policy has no policy.
    expect(policies.actor("otherType")).toBeUndefined();
    // Scoped to checkout: another app gets none of it.
    const other = await ResiliencyPolicies.load(resiliencies, "billing", silentLogger);
    expect(other.empty).toBe(true);
  });
});
