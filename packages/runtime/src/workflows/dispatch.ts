// Work dispatch: the queue of turns and activities waiting for a worker stream, and which stream
// takes the next one (the least loaded, within the per-stream and the Configuration's limits).
import type { WorkItem } from "../grpc/generated/WorkItem.ts";

/** A turn or an activity to send to a worker. */
export type Pending =
  | { kind: "orchestration"; instanceId: string }
  | {
      kind: "activity";
      instanceId: string;
      executionId: string;
      taskId: number;
      name: string;
      input: string | undefined;
    };

/** One connected GetWorkItems stream and the work items it holds unanswered. */
export interface Worker {
  send(item: WorkItem): void;
  end(): void;
  inFlight: Map<string, Pending>;
}

export const keyOf = (p: Pending): string =>
  p.kind === "orchestration" ? `o:${p.instanceId}` : `a:${p.instanceId}#${p.taskId}`;

export interface WorkQueueOptions {
  /** Work items one worker stream holds unanswered at most. */
  maxInFlightPerWorker: number;
  /** Turns and activities out at once across the workers, per kind; unlimited when absent. */
  maxConcurrent: { orchestration?: number | undefined; activity?: number | undefined };
  /** Sends `pending` to `worker` (or drops it when it is no longer wanted). */
  dispatch(pending: Pending, worker: Worker): void;
  /** While true nothing is dispatched. */
  closed(): boolean;
}

export class WorkQueue {
  readonly workers = new Set<Worker>();
  readonly #queue: Pending[] = [];
  readonly #queued = new Set<string>();
  readonly #options: WorkQueueOptions;

  constructor(options: WorkQueueOptions) {
    this.#options = options;
  }

  /** Queues `pending` once (a second of the same key is the same work) and pumps soon. */
  enqueue(pending: Pending): void {
    const key = keyOf(pending);
    if (this.#queued.has(key)) return;
    this.#queued.add(key);
    this.#queue.push(pending);
    queueMicrotask(() => this.pump());
  }

  /** Forgets that any worker holds the work item of `key` (answered, or no longer wanted). */
  forget(key: string): void {
    for (const worker of this.workers) worker.inFlight.delete(key);
  }

  /** Whether one more work item of `kind` stays within the Configuration's limit. */
  #roomFor(kind: Pending["kind"]): boolean {
    const max = this.#options.maxConcurrent[kind];
    if (!max || max <= 0) return true;
    let out = 0;
    for (const w of this.workers) for (const p of w.inFlight.values()) if (p.kind === kind) out++;
    return out < max;
  }

  /** Hands queued work to the least loaded workers while any has room. */
  pump(): void {
    if (this.#options.closed()) return;
    while (this.#queue.length > 0) {
      let worker: Worker | undefined;
      for (const w of this.workers) {
        if (
          w.inFlight.size < this.#options.maxInFlightPerWorker &&
          (!worker || w.inFlight.size < worker.inFlight.size)
        )
          worker = w;
      }
      if (!worker) return;
      // The oldest item whose kind is under its limit; a kind at its limit keeps its order.
      const at = this.#queue.findIndex((p) => this.#roomFor(p.kind));
      if (at < 0) return;
      const [pending] = this.#queue.splice(at, 1) as [Pending];
      this.#queued.delete(keyOf(pending));
      this.#options.dispatch(pending, worker);
    }
  }
}
