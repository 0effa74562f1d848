import {
  type BindingHandler,
  ComponentError,
  type InputBinding,
  type InvokeRequest,
  type InvokeResponse,
  notSupported,
  type OutputBinding,
} from "@outrig/core";

/**
 * An in-process queue binding used to test the bindings suite itself: `create` enqueues the data
 * on a named queue and stores it under `key`; readers take events from the queue one at a time
 * and requeue an event whose handler threw. Flags break it on purpose for the suite's self-tests.
 */
export interface LoopbackFlaws {
  /** A failed event is dropped instead of requeued. */
  dropFailed?: boolean;
  /** `get` returns something other than what was created. */
  corruptGet?: boolean;
  /** The handler keeps being called after close. */
  readAfterClose?: boolean;
  /** An unknown operation resolves instead of rejecting. */
  acceptUnknown?: boolean;
  /** A read keeps delivering after its AbortSignal fired. */
  ignoreAbort?: boolean;
  /** `delete` does nothing. */
  deleteNoop?: boolean;
}

interface Queue {
  events: Uint8Array[];
  readers: Set<() => void>;
}

const queues = new Map<string, Queue>();
const stores = new Map<string, Map<string, Uint8Array>>();

function queueOf(name: string): Queue {
  let q = queues.get(name);
  if (!q) {
    q = { events: [], readers: new Set() };
    queues.set(name, q);
  }
  return q;
}

export class LoopbackBinding implements InputBinding, OutputBinding {
  private closed = false;
  private readonly stops: (() => void)[] = [];
  private readonly queue: string;
  private readonly flaws: LoopbackFlaws;

  constructor(queue: string, flaws: LoopbackFlaws = {}) {
    this.queue = queue;
    this.flaws = flaws;
  }

  async ping(): Promise<void> {
    if (this.closed) throw new ComponentError("ERR_CLOSED", "closed");
  }

  operations(): readonly string[] {
    return ["create", "get", "delete", "list"];
  }

  async invoke(request: InvokeRequest): Promise<InvokeResponse> {
    if (this.closed) throw new ComponentError("ERR_CLOSED", "closed");
    const store = stores.get(this.queue) ?? new Map<string, Uint8Array>();
    stores.set(this.queue, store);
    const key = request.metadata?.key ?? "default";
    switch (request.operation) {
      case "create": {
        const data = request.data ?? new Uint8Array();
        store.set(key, data);
        const q = queueOf(this.queue);
        q.events.push(data);
        for (const wake of q.readers) wake();
        return {};
      }
      case "get": {
        const data = store.get(key);
        if (data && this.flaws.corruptGet) return { data: new TextEncoder().encode("corrupt") };
        return { data: data ?? null };
      }
      case "delete":
        if (!this.flaws.deleteNoop) store.delete(key);
        return {};
      case "list":
        return { data: new TextEncoder().encode(JSON.stringify([...store.keys()])) };
      default:
        if (this.flaws.acceptUnknown) return {};
        throw notSupported(request.operation, "bindings.loopback");
    }
  }

  async read(handler: BindingHandler, signal?: AbortSignal): Promise<void> {
    if (this.closed) throw new ComponentError("ERR_CLOSED", "closed");
    const q = queueOf(this.queue);
    let stopped = false;
    let busy = false;
    const pump = async (): Promise<void> => {
      if (busy) return;
      busy = true;
      try {
        while (q.events.length > 0 && (!stopped || this.flaws.readAfterClose)) {
          const event = q.events.shift() as Uint8Array;
          try {
            await handler({ data: event, metadata: { queue: this.queue } });
          } catch {
            if (!this.flaws.dropFailed) q.events.unshift(event);
            await new Promise((r) => setTimeout(r, 10));
          }
        }
      } finally {
        busy = false;
      }
    };
    const wake = (): void => {
      void pump();
    };
    const stop = (): void => {
      stopped = true;
      if (!this.flaws.readAfterClose) q.readers.delete(wake);
    };
    q.readers.add(wake);
    this.stops.push(stop);
    if (!this.flaws.ignoreAbort) signal?.addEventListener("abort", stop, { once: true });
    wake();
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const stop of this.stops.splice(0)) stop();
  }
}

/** A binding with only the input side: a timer that fires every `intervalMs`, like cron. */
export class TickerBinding implements InputBinding {
  private closed = false;
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly intervalMs: number;

  constructor(intervalMs: number) {
    this.intervalMs = intervalMs;
  }

  async ping(): Promise<void> {}

  async read(handler: BindingHandler, signal?: AbortSignal): Promise<void> {
    if (this.closed) throw new ComponentError("ERR_CLOSED", "closed");
    const timer = setInterval(() => {
      handler({ data: new Uint8Array(), metadata: {} }).catch(() => undefined);
    }, this.intervalMs);
    this.timers.add(timer);
    signal?.addEventListener("abort", () => clearInterval(timer), { once: true });
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const t of this.timers) clearInterval(t);
  }
}

/** The output side of a binding alone (no `read`). */
export function outputOnly(binding: OutputBinding): OutputBinding {
  return {
    ping: () => binding.ping(),
    close: () => binding.close(),
    operations: () => binding.operations(),
    invoke: (request) => binding.invoke(request),
  };
}
