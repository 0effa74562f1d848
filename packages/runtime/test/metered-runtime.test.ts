// meteredRuntime records one count and latency per component call, by outcome: a resolved
// call, a rejected one and a synchronous throw (a failure too); methods run on the instance
// itself (private fields), other properties pass through, and a lock store is left unwrapped.
import { describe, expect, it } from "vitest";
import { meteredRuntime } from "../src/metrics/metered-runtime.ts";
import { SidecarMetrics } from "../src/metrics/sidecar-metrics.ts";
import type { Runtime } from "../src/runtime.ts";

class Store {
  readonly #value = { data: "v" };
  async get(req: { key: string }): Promise<unknown> {
    if (req.key === "bad") throw new Error("rejected");
    return this.#value;
  }
  set(): Promise<void> {
    throw new Error("thrown synchronously");
  }
  features(): string[] {
    return ["ETAG"];
  }
}

class Locks {
  async tryLock(): Promise<boolean> {
    return true;
  }
}

describe("meteredRuntime", () => {
  it("records each outcome of a wrapped call and passes the rest through", async () => {
    const store = new Store();
    const locks = new Locks();
    let resources = "first";
    const runtime = {
      stateStore: () => store,
      lockStore: () => locks,
      appId: "app",
      get resources() {
        return resources;
      },
    } as unknown as Runtime;
    const metrics = new SidecarMetrics("app", "ns");
    const metered = meteredRuntime(runtime, metrics) as unknown as {
      stateStore(name: string): Store;
      lockStore(name: string): Locks;
      appId: string;
    };
    expect(metered.appId).toBe("app");
    // A getter of the runtime answers through the view with the runtime's current value.
    resources = "reloaded";
    expect((metered as unknown as Runtime).resources).toBe("reloaded");
    const view = metered.stateStore("s");
    expect(metered.stateStore("s")).toBe(view);
    expect(await view.get({ key: "k" })).toEqual({ data: "v" });
    await expect(view.get({ key: "bad" })).rejects.toThrow("rejected");
    await expect(view.set()).rejects.toThrow("thrown synchronously");
    expect(view.features()).toEqual(["ETAG"]);
    expect(metered.lockStore("l")).toBe(locks);

    const text = await metrics.registry.metrics();
    const series = (operation: string, success: boolean) =>
      `dapr_component_state_count{app_id="app",component="s",namespace="ns",operation="${operation}",success="${success}"} 1`;
    expect(text).toContain(series("get", true));
    expect(text).toContain(series("get", false));
    expect(text).toContain(series("set", false));
    expect(text).not.toContain('operation="set",success="true"');
    expect(text).toMatch(
      /dapr_component_state_latencies_count\{[^}]*operation="get",success="true"\} 1/,
    );
  });
});
