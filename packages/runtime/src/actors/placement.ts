/**
 * Where an actor lives. Every call, timer and reminder asks the placement first, so the turn
 * runs on the one sidecar that owns `type/id`: {@link LocalPlacement} for one sidecar (every
 * actor of a type it hosts is its own), TablePlacement (table-placement.ts) across sidecars,
 * whose `remote` owners the runtime forwards to.
 */
export type Ownership =
  /** This sidecar owns the actor; `epoch` fences turns run under an older ownership. */
  | { kind: "local"; epoch: number }
  /** Another sidecar owns it: forward the call there, carrying `epoch` for it to check. */
  | { kind: "remote"; epoch: number; appId: string; host: string; port: number }
  /** No sidecar hosts the type. */
  | { kind: "none" };

export interface ActorPlacement {
  /** Announces the types this sidecar's app hosts (from its `GET /dapr/config`). */
  host(types: readonly string[]): Promise<void>;
  /** The owner of `type/id` now. */
  lookup(type: string, id: string): Ownership;
  /**
   * Whether a turn started under `epoch` may still run or write here. A placement that moved
   * the actor away answers false, so a stale owner stops before touching the app or its state.
   */
  stillOwner(type: string, id: string, epoch: number): boolean;
  /**
   * Called when ownership may have changed (a sidecar joined or left): actors deactivate; the
   * listener's promise settles once they did.
   */
  onChange(listener: () => void | Promise<void>): () => void;
  /** Actors move between sidecars: the app is told each turn's epoch (a fencing token). */
  readonly fences?: boolean;
  /** Brings the placement's view up to at least `epoch` (another sidecar saw a newer one). */
  sync?(epoch: number): Promise<void>;
  /** Resolves once ownership moved past `epoch`, or after the placement's bound on that. */
  changed?(epoch: number, signal?: AbortSignal): Promise<void>;
  /**
   * Before activating `type/id` under `epoch`: waits (at most until `signal`) for the sidecars it
   * may come from to have deactivated it. True when it waited (look up again).
   */
  settled?(type: string, id: string, epoch: number, signal: AbortSignal): Promise<boolean>;
  /** For the metadata API's `actorRuntime.placement`. */
  describe(): string;
  close(): Promise<void>;
}

/**
 * One sidecar: the types its app hosts are local, others are hosted nowhere. Its epoch is the
 * time it started, so no two runs of a sidecar share one, and ownership never changes while it
 * runs.
 */
export class LocalPlacement implements ActorPlacement {
  readonly #epoch = Date.now();
  #types = new Set<string>();

  async host(types: readonly string[]): Promise<void> {
    this.#types = new Set(types);
  }

  lookup(type: string): Ownership {
    return this.#types.has(type) ? { kind: "local", epoch: this.#epoch } : { kind: "none" };
  }

  stillOwner(type: string, _id: string, epoch: number): boolean {
    return this.#types.has(type) && epoch === this.#epoch;
  }

  onChange(): () => void {
    return () => undefined;
  }

  describe(): string {
    return "placement: local (single sidecar)";
  }

  async close(): Promise<void> {
    this.#types = new Set();
  }
}
