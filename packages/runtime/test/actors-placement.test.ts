// The actor runtime asks its ActorPlacement before every turn: a placement that moves an actor
// away (a new owner, a new epoch) fences the old activation and deactivates it, and calls for
// an actor owned elsewhere are not run here. A placement across sidecars plugs in at this seam.
import { silentLogger } from "@outrig/core";
import { describe, expect, it } from "vitest";
import { ActorRuntime } from "../src/actors/actor-runtime.ts";
import type { ActorApp } from "../src/actors/app-calls.ts";
import type { ActorPlacement, Ownership } from "../src/actors/placement.ts";
import { ApiError } from "../src/api/errors.ts";

/** A placement the test moves by hand. */
class MovablePlacement implements ActorPlacement {
  owner: Ownership = { kind: "local", epoch: 1 };
  #listeners: (() => void)[] = [];
  async host(): Promise<void> {}
  lookup(): Ownership {
    return this.owner;
  }
  stillOwner(_type: string, _id: string, epoch: number): boolean {
    return this.owner.kind === "local" && this.owner.epoch === epoch;
  }
  onChange(listener: () => void): () => void {
    this.#listeners.push(listener);
    return () => undefined;
  }
  move(owner: Ownership): void {
    this.owner = owner;
    for (const l of this.#listeners) l();
  }
  describe(): string {
    return "placement: test";
  }
  async close(): Promise<void> {}
}

function fakeApp(calls: string[], onMethod?: () => Promise<void>): ActorApp {
  const ok = { status: 200, headers: {}, body: Buffer.from("{}") };
  return {
    config: async () => ({ entities: ["T"], drainRebalancedActors: true }),
    method: async (c) => {
      calls.push(`PUT ${c.type}/${c.id}/${c.method}`);
      await onMethod?.();
      return ok;
    },
    timer: async () => ok,
    reminder: async () => ok,
    deactivate: async (c) => {
      calls.push(`DELETE ${c.type}/${c.id}`);
      return ok;
    },
  };
}

function runtime(placement: ActorPlacement, app: ActorApp): ActorRuntime {
  return new ActorRuntime({
    appId: "p",
    namespace: "default",
    logger: silentLogger,
    app,
    placement,
    scheduler: undefined,
    state: () => undefined,
    callTimeoutMs: 5000,
    track: (fn) => fn(),
  });
}

const call = { type: "T", id: "a", method: "m", body: Buffer.alloc(0), headers: {}, query: "" };

describe("ActorPlacement as the runtime's seam for ownership", () => {
  it("deactivates an actor whose ownership moved and does not run calls for a remote owner", async () => {
    const calls: string[] = [];
    const placement = new MovablePlacement();
    const actors = runtime(placement, fakeApp(calls));
    await actors.start(new AbortController().signal);
    await actors.invoke(call);
    placement.move({ kind: "remote", epoch: 2, appId: "other", host: "127.0.0.1", port: 1 });
    await new Promise((r) => setTimeout(r, 50));
    expect(calls).toEqual(["PUT T/a/m", "DELETE T/a"]);
    const refused = await actors.invoke(call).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(ApiError);
    expect((refused as ApiError).errorCode).toBe("ERR_ACTOR_INVOKE_METHOD");
    expect((refused as ApiError).message).toContain("owned by the sidecar of other");
    expect(calls).toHaveLength(2);
    await actors.stop(100);
  });

  it("fences a turn that waited while the epoch moved on: the app is not called under the old one", async () => {
    const calls: string[] = [];
    const placement = new MovablePlacement();
    let release!: () => void;
    const held = new Promise<void>((r) => {
      release = r;
    });
    let first = true;
    const actors = runtime(
      placement,
      fakeApp(calls, async () => {
        if (first) {
          first = false;
          await held;
        }
      }),
    );
    await actors.start(new AbortController().signal);
    const running = actors.invoke(call);
    await new Promise((r) => setTimeout(r, 20));
    const waiting = actors.invoke(call).catch((e: unknown) => e);
    await new Promise((r) => setTimeout(r, 20)); // it looked up its owner and queued for the turn
    // Still local, but a new epoch: the queued turn belongs to the old activation.
    placement.owner = { kind: "local", epoch: 2 };
    release();
    await running;
    const error = await waiting;
    expect(error).toBeInstanceOf(ApiError);
    expect((error as ApiError).message).toContain("moved to another sidecar during the call");
    expect(calls).toEqual(["PUT T/a/m"]);
    // The next call replaces the stale activation: deactivated, then run under the new epoch.
    await actors.invoke(call);
    expect(calls).toEqual(["PUT T/a/m", "DELETE T/a", "PUT T/a/m"]);
    await actors.stop(100);
  });
});
