import {
  type IncomingMessage,
  type OutgoingHttpHeader,
  type OutgoingHttpHeaders,
  ServerResponse,
  STATUS_CODES,
} from "node:http";
import type { Attributes } from "@opentelemetry/api";
import type { SpanDescription } from "./recorded-span.ts";
import {
  describeSpan,
  endSpan,
  type SidecarTracing,
  type Span,
  SpanKind,
} from "./sidecar-tracing.ts";

/** A path segment decoded; a malformed one (refused by the API anyway) as it came. */
function decoded(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

/** The first value of a header, if any. */
function one(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/**
 * daprd's attributes of an HTTP API span, by building block (its endpoint groups'
 * AppendSpanAttributes), and the span's name: the path, or `CallLocal/<app>/<method>` for an
 * invocation.
 */
export function httpSpanAttributes(
  method: string,
  path: string,
  status: number,
): { name: string; attributes: Attributes } {
  const attributes: Attributes = {
    "dapr.protocol": "http",
    "dapr.api": `${method} ${path}`,
    "dapr.status_code": String(status),
  };
  let name = path;
  // /v1.0/<block>/<name>/...
  const parts = path.split("/");
  const block = parts[2];
  const component = decoded(parts[3] ?? "");
  const db = (system: string): void => {
    attributes["db.system"] = system;
    attributes["db.connection_string"] = system;
    attributes["db.statement"] = `${method} ${path}`;
    attributes["db.name"] = component;
  };
  switch (block) {
    case "state":
      db("state");
      break;
    case "secrets":
      db("secrets");
      break;
    case "bindings":
      db("bindings");
      break;
    case "publish": {
      // /v1.0/publish/<pubsub>/<topic...> or /v1.0/publish/bulk/<pubsub>/<topic...>
      const topicAt = parts[3] === "bulk" ? 5 : 4;
      attributes["messaging.system"] = "pubsub";
      attributes["messaging.destination.name"] = decoded(parts.slice(topicAt).join("/"));
      attributes["messaging.destination_kind"] = "topic";
      break;
    }
    case "invoke": {
      // /v1.0/invoke/<app>/method/<method...>
      const target = component;
      const invoked = decoded(parts.slice(5).join("/"));
      attributes["rpc.service"] = "ServiceInvocation";
      attributes["net.peer.name"] = target;
      name = `CallLocal/${target}/${invoked}`;
      break;
    }
  }
  return { name, attributes };
}

/**
 * The traced API server's responses: `traceparent` joins the headers as they are written, unless
 * the handler sends its own (a callee's). Set with setHeader before the handler ran, it would
 * move every answer onto Node's slower header path (each header of writeHead set and checked one
 * by one).
 */
export class TracedResponse<
  Request extends IncomingMessage = IncomingMessage,
> extends ServerResponse<Request> {
  /** The context of the request's span, for the answer. */
  #traceparent: string | undefined = undefined;
  #span: Span | undefined = undefined;

  /** Makes `span` the request's, ended with the answer's status when the response closes. */
  trace(span: Span, traceparent: string): void {
    this.#span = span;
    this.#traceparent = traceparent;
  }

  /** Ends the request's span, if it has one that is still open: the server calls it on close. */
  endTrace(): void {
    const span = this.#span;
    if (!span) return;
    this.#span = undefined;
    finish(span, this.req.method ?? "", this.writableFinished ? this.statusCode : 499);
  }

  override writeHead(
    statusCode: number,
    messageOrHeaders?: string | OutgoingHttpHeaders | OutgoingHttpHeader[],
    maybeHeaders?: OutgoingHttpHeaders | OutgoingHttpHeader[],
  ): this {
    const traceparent = this.#traceparent;
    const message = typeof messageOrHeaders === "string" ? messageOrHeaders : undefined;
    let headers = typeof messageOrHeaders === "string" ? maybeHeaders : messageOrHeaders;
    if (traceparent !== undefined && !this.hasHeader("traceparent")) {
      if (headers === undefined) headers = { traceparent };
      else if (Array.isArray(headers)) this.setHeader("traceparent", traceparent);
      else if (headers.traceparent === undefined) headers = { ...headers, traceparent };
    }
    return message === undefined
      ? super.writeHead(statusCode, headers)
      : super.writeHead(statusCode, message, headers);
  }
}

/** Ends an HTTP API span with the answer's `status` (499: the caller went away first). */
function finish(span: Span, method: string, status: number): void {
  describeSpan(span, httpDescription(method, status));
  endSpan(
    span,
    status >= 400,
    status >= 400 ? `Code(${status}): ${STATUS_CODES[status] ?? "Unknown"}` : undefined,
  );
}

/** One description per method and status, shared by every span with them (both sets are small). */
const descriptions = new Map<string, Map<number, SpanDescription>>();

/**
 * An HTTP span's name and attributes from its name (the path), worked out only if the span is
 * read. It holds the method and status alone: a closure over the handler's scope would keep the
 * request and the response alive for as long as the span buffer keeps the span.
 */
function httpDescription(method: string, status: number): SpanDescription {
  let byStatus = descriptions.get(method);
  if (byStatus === undefined) {
    byStatus = new Map();
    descriptions.set(method, byStatus);
  }
  let description = byStatus.get(status);
  if (description === undefined) {
    description = (path) => httpSpanAttributes(method, path, status);
    byStatus.set(status, description);
  }
  return description;
}

/**
 * The HTTP API handler with daprd's HTTP tracing middleware around it: a span per request (kind
 * CLIENT, as daprd's), whose context replaces the request's `traceparent`/`tracestate`, so
 * everything the handler passes on (invocation headers, the CloudEvent, binding metadata) names
 * it as parent; the answer carries `traceparent` unless the handler set its own (a callee's).
 * Health checks are not traced, as in daprd, nor the sidecar's own span listing.
 */
export function tracedHttpHandler(
  handler: (req: IncomingMessage, res: ServerResponse) => void,
  tracing: SidecarTracing,
): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    const url = req.url ?? "";
    const q = url.indexOf("?");
    const path = q >= 0 ? url.slice(0, q) : url;
    if (path.includes("/healthz") || path.startsWith("/outrig/")) {
      handler(req, res);
      return;
    }
    const headers = req.headers;
    const span = tracing.start(path, SpanKind.CLIENT, {
      traceparent: one(headers.traceparent),
      tracestate: one(headers.tracestate),
    });
    const traceparent = tracing.traceparent(span);
    headers.traceparent = traceparent;
    const tracestate = span.spanContext().traceState?.serialize();
    if (tracestate) headers.tracestate = tracestate;
    else if (headers.tracestate !== undefined) delete headers.tracestate;
    if (res instanceof TracedResponse) res.trace(span, traceparent);
    else {
      // A server of someone else's making: the same span, with a header and a listener of its own.
      res.setHeader("traceparent", traceparent);
      res.once("close", () =>
        finish(span, req.method ?? "", res.writableFinished ? res.statusCode : 499),
      );
    }
    handler(req, res);
  };
}
