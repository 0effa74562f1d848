import { randomUUID } from "node:crypto";
import { afterAll, describe, expect, it } from "vitest";
import { TestApp } from "./app.ts";
import { describeSidecarBinding } from "./bindings.ts";
import type { SidecarComponent, SidecarConformanceConfig, SidecarUnderTest } from "./config.ts";
import type { SidecarSuiteContext } from "./context.ts";
import { call } from "./http.ts";
import { describeSidecarLock } from "./lock.ts";
import { describeSidecarPubSub, pubsubReply, pubsubSubscriptions } from "./pubsub.ts";
import { describeSidecarState } from "./state.ts";

export type {
  SidecarBindingConfig,
  SidecarComponent,
  SidecarConformanceConfig,
  SidecarOutputCall,
  SidecarPubSubConfig,
  SidecarStateConfig,
  SidecarUnderTest,
  StartSidecar,
  StartSidecarOptions,
} from "./config.ts";

/** A Component document; `{runId}` in metadata values becomes this run's ID. */
function componentYaml(name: string, component: SidecarComponent, runId: string): string {
  const metadata = Object.entries(component.metadata ?? {});
  const lines = [
    "apiVersion: dapr.io/v1alpha1",
    "kind: Component",
    "metadata:",
    `  name: ${name}`,
    "spec:",
    `  type: ${component.type}`,
    `  version: ${component.version ?? "v1"}`,
  ];
  if (metadata.length > 0) {
    lines.push("  metadata:");
    for (const [key, value] of metadata) {
      lines.push(
        `    - name: ${key}`,
        `      value: ${JSON.stringify(value.replaceAll("{runId}", runId))}`,
      );
    }
  }
  return lines.join("\n");
}

/**
 * The sidecar suite: one sidecar (from `config.startSidecar`) with the given real components and
 * a test app, driven over the sidecar's HTTP API as curl would. The sidecar starts while the suite
 * is collected, so the components' capabilities in `/v1.0/metadata` pick each group's cases
 * (positive, or the error daprd answers when a capability is not declared); nothing is skipped.
 * Keys and topics carry a per-call run ID, so calls can share one broker.
 */
export function describeSidecarConformance(config: SidecarConformanceConfig): void {
  describe(`sidecar conformance: ${config.name}`, async () => {
    const runId = randomUUID().slice(0, 8);
    const app = new TestApp(config.pubsub ? pubsubSubscriptions(runId) : [], pubsubReply());
    await app.start();
    const documents: string[] = [];
    if (config.state) documents.push(componentYaml("statestore", config.state, runId));
    if (config.pubsub) documents.push(componentYaml("pubsub", config.pubsub, runId));
    if (config.binding) documents.push(componentYaml("binding", config.binding, runId));
    if (config.lock) documents.push(componentYaml("lockstore", config.lock, runId));
    let sidecar: SidecarUnderTest;
    try {
      sidecar = await config.startSidecar({
        appId: `sc-${runId}`,
        resources: documents.join("\n---\n"),
        appPort: app.port,
      });
    } catch (error) {
      await app.close();
      throw error;
    }
    afterAll(async () => {
      await sidecar.stop();
      await app.close();
    });
    await sidecar.ready?.();
    const metadata = await call(sidecar.url, "GET", "/v1.0/metadata");
    const components =
      (metadata.json as { components?: { name: string; capabilities?: string[] }[] } | undefined)
        ?.components ?? [];
    const ctx: SidecarSuiteContext = {
      runId,
      url: () => sidecar.url,
      app,
      capabilities: (name) => new Set(components.find((c) => c.name === name)?.capabilities ?? []),
    };
    if (config.pubsub?.waitBeforePublishMs)
      await new Promise((r) => setTimeout(r, config.pubsub?.waitBeforePublishMs));

    it("lists every configured component in /v1.0/metadata", () => {
      const names = components.map((c) => c.name).sort();
      const expected = [
        ...(config.binding ? ["binding"] : []),
        ...(config.lock ? ["lockstore"] : []),
        ...(config.pubsub ? ["pubsub"] : []),
        ...(config.state ? ["statestore"] : []),
      ];
      expect(names).toEqual(expected);
    });
    if (config.state) describeSidecarState(ctx, config.state);
    if (config.pubsub) describeSidecarPubSub(ctx, config.pubsub);
    if (config.binding) describeSidecarBinding(ctx, config.binding);
    if (config.lock) describeSidecarLock(ctx);
  });
}
