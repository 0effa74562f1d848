import { connect } from "node:net";
import { performance } from "node:perf_hooks";
import { setTimeout as sleep } from "node:timers/promises";
import { isTruthy, type Logger, type Metadata, type SetRequest } from "@outrig/core";
import { Semaphore } from "../lifecycle/semaphore.ts";
import { CLOUDEVENT_CONTENT_TYPE, sortedKeys } from "../messaging/cloudevent.ts";
import { type Subscription, subscriptionMetadata } from "../messaging/subscriptions.ts";
import type { SubscriptionRule } from "../resources/model.ts";
import {
  APP_CALL_TIMEOUT_MS,
  type AppCallbacks,
  type BindingDelivery,
  type BindingReply,
  type BulkDelivery,
  type BulkResult,
  callSignal,
  type DeliveryResult,
  type InputBindingRoute,
  type Outcome,
  type TopicDelivery,
} from "./callbacks.ts";
import { HttpTarget } from "./http-client.ts";

export interface AppChannelOptions {
  host: string;
  port: number;
  /** Sent as `dapr-api-token` on every call to the app (APP_API_TOKEN). */
  token?: string | undefined;
  /** app-max-concurrency: at most this many calls to the app at once. */
  maxConcurrency?: number | undefined;
  /** Called when a buffered call to the app ends: method, path, status (0 = failed), ms, bytes. */
  observe?:
    | ((
        method: string,
        path: string,
        status: number,
        ms: number,
        sentBytes: number,
        receivedBytes: number,
      ) => void)
    | undefined;
  logger: Logger;
}

export interface AppResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

/**
 * The sidecar's HTTP connection to its app: token, concurrency limit, and two keep-alive pools,
 * `target` for service invocation and `deliveries` for subscriptions, input bindings and
 * discovery, so no amount of invocation traffic (hung or abandoned) can starve deliveries.
 * Its AppCallbacks speak Dapr's HTTP app protocol.
 */
export class AppChannel implements AppCallbacks {
  readonly protocol = "http";
  readonly host: string;
  readonly port: number;
  readonly token: string | undefined;
  readonly maxConcurrency: number | undefined;
  readonly target: HttpTarget;
  readonly deliveries: HttpTarget;
  readonly limit: Semaphore;
  readonly #observe: AppChannelOptions["observe"];
  readonly #logger: Logger;
  readonly #closed = new AbortController();

  constructor(options: AppChannelOptions) {
    this.#logger = options.logger;
    this.host = options.host;
    this.port = options.port;
    this.token = options.token;
    this.maxConcurrency = options.maxConcurrency;
    this.target = new HttpTarget(options.host, options.port);
    this.deliveries = new HttpTarget(options.host, options.port);
    this.limit = new Semaphore(options.maxConcurrency);
    this.#observe = options.observe;
  }

  /** Dials the app port every 100 ms until it accepts a connection, as daprd does. */
  async waitForPort(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      const open = await new Promise<boolean>((resolve) => {
        const socket = connect({ host: this.host, port: this.port });
        socket.once("connect", () => {
          socket.destroy();
          resolve(true);
        });
        socket.once("error", () => {
          socket.destroy();
          resolve(false);
        });
      });
      if (open) return;
      await sleep(100, undefined, { signal }).catch(() => undefined);
    }
    throw new Error("stopped while waiting for the app port");
  }

  /**
   * One app health probe: `GET path`, healthy on 2xx within `timeoutMs`. It bypasses
   * app-max-concurrency, as daprd's prober does, so a busy app is not taken for a dead one.
   */
  async probe(path: string, timeoutMs: number): Promise<boolean> {
    const headers: Record<string, string> = this.token ? { "dapr-api-token": this.token } : {};
    const response = await this.deliveries.call(
      "GET",
      path.startsWith("/") ? path : `/${path}`,
      headers,
      undefined,
      timeoutMs,
    );
    return response.status >= 200 && response.status < 300;
  }

  ready(signal: AbortSignal): Promise<void> {
    return this.waitForPort(signal);
  }

  /** One buffered call to the app (subscriptions, bindings, discovery, actor callbacks). */
  request(options: {
    method: "GET" | "POST" | "PUT" | "DELETE" | "OPTIONS";
    path: string;
    headers?: Record<string, string>;
    body?: string | Buffer;
    timeoutMs?: number;
    signal?: AbortSignal;
  }): Promise<AppResponse> {
    const timeoutMs = options.timeoutMs ?? APP_CALL_TIMEOUT_MS;
    const signal = callSignal(
      options.signal ?? this.#closed.signal,
      this.#closed.signal,
      timeoutMs,
    );
    return this.limit.run(async () => {
      signal.throwIfAborted();
      const headers: Record<string, string> = { ...options.headers };
      if (this.token) headers["dapr-api-token"] = this.token;
      const path = options.path.startsWith("/") ? options.path : `/${options.path}`;
      const observe = this.#observe;
      const began = observe ? performance.now() : 0;
      const call = this.deliveries.call(
        options.method,
        path,
        headers,
        options.body,
        timeoutMs,
        signal,
      );
      if (!observe) return call;
      const sent = options.body === undefined ? 0 : Buffer.byteLength(options.body);
      return call.then(
        (response) => {
          observe(
            options.method,
            path,
            response.status,
            performance.now() - began,
            sent,
            response.body.byteLength,
          );
          return response;
        },
        (error: unknown) => {
          observe(options.method, path, 0, performance.now() - began, sent, 0);
          throw error;
        },
      );
    });
  }

  async subscriptions(signal: AbortSignal): Promise<Subscription[]> {
    try {
      const response = await this.request({
        method: "GET",
        path: "/dapr/subscribe",
        timeoutMs: 10_000,
        signal,
      });
      if (response.status === 200) {
        return parseProgrammatic(JSON.parse(response.body.toString("utf8") || "[]"), this.#logger);
      }
      if (response.status !== 404) {
        this.#logger.warn(
          "app answered GET /dapr/subscribe with an error; no programmatic subscriptions",
          { status: response.status },
        );
      }
    } catch (error) {
      this.#logger.warn("cannot read the app's subscriptions", {
        error: (error as Error).message,
      });
    }
    return [];
  }

  /** Probes each route with OPTIONS: 2xx or 405 means the app listens. */
  async inputBindings(
    candidates: readonly InputBindingRoute[],
    signal: AbortSignal,
  ): Promise<Set<string>> {
    const listening = new Set<string>();
    for (const { name, route } of candidates) {
      try {
        const probe = await this.request({
          method: "OPTIONS",
          path: route,
          timeoutMs: 5000,
          signal,
        });
        if ((probe.status >= 200 && probe.status < 300) || probe.status === 405)
          listening.add(name);
        else
          this.#logger.debug("app does not listen to input binding", {
            name,
            status: probe.status,
          });
      } catch (error) {
        this.#logger.warn("input binding probe failed", {
          name,
          error: (error as Error).message,
        });
      }
    }
    return listening;
  }

  async topicEvent(delivery: TopicDelivery, signal: AbortSignal): Promise<DeliveryResult> {
    const response = await this.request({
      method: "POST",
      path: delivery.path,
      headers: messageHeaders(
        delivery.metadata,
        delivery.pubsubname,
        delivery.trace ?? delivery.event,
      ),
      body: JSON.stringify(delivery.event),
      signal,
    });
    return { outcome: readOutcome(response), detail: `status ${response.status}` };
  }

  async bulkTopicEvent(delivery: BulkDelivery, signal: AbortSignal): Promise<BulkResult> {
    const body = {
      id: delivery.id,
      type: "com.dapr.event.sent.bulk",
      topic: delivery.topic,
      pubsubname: delivery.pubsubname,
      metadata: delivery.metadata,
      entries: delivery.entries.map((e) => ({
        entryId: e.entryId,
        // As daprd: a raw entry is its bytes in base64; a CloudEvent is re-encoded from a map.
        event: delivery.raw ? (e.event.data_base64 as string) : sortedKeys(e.event),
        contentType: delivery.raw ? "application/octet-stream" : CLOUDEVENT_CONTENT_TYPE,
        metadata: e.metadata,
      })),
    };
    const response = await this.request({
      method: "POST",
      path: delivery.path,
      headers: { "content-type": "application/json", pubsubname: delivery.pubsubname },
      body: JSON.stringify(body),
      signal,
    });
    if (response.status === 404) return { all: "DROP", statuses: new Map() };
    if (response.status < 200 || response.status >= 300)
      return { all: "RETRY", statuses: new Map() };
    const parsed = JSON.parse(response.body.toString("utf8") || "{}") as {
      statuses?: { entryId?: string; status?: string }[];
    };
    return {
      statuses: new Map(
        (parsed.statuses ?? []).map((x) => [
          String(x.entryId),
          (String(x.status ?? "SUCCESS").toUpperCase() || "SUCCESS") as Outcome,
        ]),
      ),
    };
  }

  /** POSTs the event to the binding's route as application/json; anything but 200 fails it. */
  async bindingEvent(delivery: BindingDelivery, signal: AbortSignal): Promise<BindingReply> {
    const headers: Record<string, string> = { "content-type": "application/json" };
    for (const [k, v] of Object.entries(delivery.metadata)) {
      if (/^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/.test(k) && !/[\r\n\0]/.test(v)) headers[k] = v;
    }
    const response = await this.request({
      method: "POST",
      path: delivery.route,
      headers,
      body: Buffer.from(delivery.data),
      signal,
    });
    if (response.status !== 200) {
      throw new Error(`app answered ${response.status} to input binding ${delivery.name}`);
    }
    return {
      ...legacyReply(response.body),
      response: response.body.length > 0 ? new Uint8Array(response.body) : undefined,
    };
  }

  async close(): Promise<void> {
    this.#closed.abort(new Error("the app channel is closed"));
    this.target.close();
    this.deliveries.close();
  }
}

/** Reads a delivery reply as daprd does. */
export function readOutcome(response: Pick<AppResponse, "status" | "body">): Outcome {
  const { status } = response;
  if (status >= 200 && status < 300) {
    if (response.body.length === 0) return "SUCCESS";
    let parsed: unknown;
    try {
      parsed = JSON.parse(response.body.toString("utf8"));
    } catch {
      return "SUCCESS";
    }
    const s =
      parsed !== null && typeof parsed === "object"
        ? (parsed as { status?: unknown }).status
        : undefined;
    if (s === undefined || s === null || s === "") return "SUCCESS";
    const upper = String(s).toUpperCase();
    if (upper === "SUCCESS" || upper === "RETRY" || upper === "DROP") return upper;
    return "RETRY";
  }
  if (status === 404) return "DROP";
  return "RETRY";
}

function headerSafe(value: string): boolean {
  return !/[\r\n\0]/.test(value) && /^[\t\x20-\x7e\x80-\xff]*$/.test(value);
}

/** `trace` holds the trace context to send: the delivery span's, else the CloudEvent's own. */
function messageHeaders(
  metadata: Metadata,
  pubsubname: string,
  trace: { traceparent?: unknown; tracestate?: unknown },
): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(metadata)) {
    if (/^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/.test(k) && headerSafe(v)) headers[k] = v;
  }
  headers.pubsubname = pubsubname;
  if (typeof trace.traceparent === "string" && trace.traceparent)
    headers.traceparent = trace.traceparent;
  if (typeof trace.tracestate === "string" && trace.tracestate)
    headers.tracestate = trace.tracestate;
  headers["content-type"] = CLOUDEVENT_CONTENT_TYPE;
  return headers;
}

/**
 * Dapr's legacy input-binding reply over HTTP: `{storeName, state: [...]}` saves state and
 * `{to: [bindings], data, concurrency}` sends `data` to output bindings. Other replies are ignored.
 */
function legacyReply(body: Buffer): Omit<BindingReply, "response"> {
  const none = (): Omit<BindingReply, "response"> => ({
    states: [],
    to: [],
    data: undefined,
    concurrency: "parallel",
  });
  if (body.length === 0 || body[0] !== 0x7b) return none();
  let reply: {
    storeName?: unknown;
    state?: unknown;
    to?: unknown;
    data?: unknown;
    concurrency?: unknown;
  };
  try {
    reply = JSON.parse(body.toString("utf8"));
  } catch {
    return none();
  }
  const states: SetRequest[] = Array.isArray(reply.state)
    ? (
        reply.state as {
          key?: unknown;
          value?: unknown;
          etag?: unknown;
          metadata?: Record<string, string>;
        }[]
      )
        .filter((i) => typeof i?.key === "string")
        .map((i) => ({
          key: i.key as string,
          value: i.value,
          ...(typeof i.etag === "string" && i.etag ? { etag: i.etag } : {}),
          ...(i.metadata ? { metadata: i.metadata } : {}),
        }))
    : [];
  return {
    ...(typeof reply.storeName === "string" ? { storeName: reply.storeName } : {}),
    states,
    to: Array.isArray(reply.to) ? reply.to.filter((n): n is string => typeof n === "string") : [],
    data: reply.data,
    concurrency: reply.concurrency === "sequential" ? "sequential" : "parallel",
  };
}

function str(value: unknown): string | undefined {
  return typeof value === "string" ? value : undefined;
}

/** Reads the app's `GET /dapr/subscribe` answer leniently (field names in any case). */
export function parseProgrammatic(body: unknown, logger: Logger): Subscription[] {
  if (!Array.isArray(body)) return [];
  const out: Subscription[] = [];
  for (const raw of body) {
    if (raw === null || typeof raw !== "object") continue;
    const get = (name: string): unknown => {
      const rec = raw as Record<string, unknown>;
      if (name in rec) return rec[name];
      const k = Object.keys(rec).find((x) => x.toLowerCase() === name.toLowerCase());
      return k === undefined ? undefined : rec[k];
    };
    const pubsubname = str(get("pubsubname"));
    const topic = str(get("topic"));
    if (!pubsubname || !topic) {
      logger.warn("ignoring a subscription without pubsubname or topic");
      continue;
    }
    const rules: SubscriptionRule[] = [];
    const routes = get("routes") as { rules?: unknown; default?: unknown } | undefined;
    if (routes && Array.isArray(routes.rules)) {
      for (const r of routes.rules as { match?: unknown; path?: unknown }[]) {
        if (typeof r?.path === "string") rules.push({ match: str(r.match) ?? "", path: r.path });
      }
    }
    const fallback = str(routes?.default) ?? str(get("route"));
    if (fallback) rules.push({ match: "", path: fallback });
    if (rules.length === 0) {
      logger.warn("ignoring a subscription without routes", { pubsubname, topic });
      continue;
    }
    const m = get("metadata");
    const metadata = subscriptionMetadata(
      m && typeof m === "object" ? (m as Record<string, unknown>) : {},
    );
    const bulk = get("bulkSubscribe") as Record<string, unknown> | undefined;
    out.push({
      pubsubname,
      topic,
      rules,
      deadLetterTopic: str(get("deadLetterTopic")) || undefined,
      metadata,
      bulkSubscribe:
        bulk && typeof bulk === "object"
          ? {
              enabled: bulk.enabled === true || isTruthy(String(bulk.enabled ?? "")),
              ...(bulk.maxMessagesCount !== undefined
                ? { maxMessagesCount: Number(bulk.maxMessagesCount) }
                : {}),
              ...(bulk.maxAwaitDurationMs !== undefined
                ? { maxAwaitDurationMs: Number(bulk.maxAwaitDurationMs) }
                : {}),
            }
          : undefined,
      type: "PROGRAMMATIC",
    });
  }
  return out;
}

export function formatHost(host: string): string {
  return host.includes(":") && !host.startsWith("[") ? `[${host}]` : host;
}
