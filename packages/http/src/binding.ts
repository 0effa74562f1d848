import {
  type BindingDefinition,
  type ComponentContext,
  ComponentError,
  type ErrorCode,
  getMetadata,
  type InvokeRequest,
  type InvokeResponse,
  type Metadata,
} from "@outrig/core";
import { BaseOutputBinding, componentErrors } from "@outrig/core/kit";
import { httpBindingOptions, type ResolvedHttpOptions, resolveHttpOptions } from "./options.ts";

const COMPONENT = "bindings.http";
const errors = componentErrors(COMPONENT);

/** Dapr's operations; `create` is a POST. TRACE is left out: fetch refuses it. */
export const HTTP_OPERATIONS = [
  "create",
  "get",
  "head",
  "post",
  "put",
  "patch",
  "delete",
  "options",
] as const;
export type HttpOperation = (typeof HTTP_OPERATIONS)[number];

const DEFAULT_CONTENT_TYPE = "application/json; charset=utf-8";
const PING_TIMEOUT_MS = 5_000;

/**
 * `bindings.http`: each invoke is one request to the base `url` (plus the `path` request
 * metadata); the other request metadata become request headers; the response status and headers
 * come back as response metadata (`statusCode`, `status`, then one entry per header).
 * Built on Node's fetch (undici), so the package has no HTTP dependency of its own.
 */
export class HttpBinding extends BaseOutputBinding {
  readonly componentType = COMPONENT;
  private readonly options: ResolvedHttpOptions;

  constructor(options: ResolvedHttpOptions) {
    super();
    this.options = options;
  }

  operations(): readonly string[] {
    return HTTP_OPERATIONS;
  }

  protected override async onPing(): Promise<void> {
    try {
      const response = await fetch(this.options.url, {
        method: "HEAD",
        signal: AbortSignal.any([this.closingSignal, AbortSignal.timeout(PING_TIMEOUT_MS)]),
      });
      await response.body?.cancel();
    } catch (error) {
      throw errors.error("ERR_UNAVAILABLE", `${this.options.url.origin} does not answer`, {
        cause: error,
      });
    }
  }

  protected async invokeOperation(
    operation: string,
    request: InvokeRequest,
  ): Promise<InvokeResponse> {
    const method = operation === "create" ? "POST" : operation.toUpperCase();
    const metadata = request.metadata ?? {};
    const url = this.requestUrl(getMetadata(metadata, "path"));
    const headers = this.requestHeaders(metadata);
    const sendsBody = method !== "GET" && method !== "HEAD" && request.data !== undefined;
    if (sendsBody && !headers.has("content-type"))
      headers.set("content-type", DEFAULT_CONTENT_TYPE);
    if (!headers.has("accept")) headers.set("accept", DEFAULT_CONTENT_TYPE);

    const signals = [this.closingSignal];
    if (this.options.responseTimeoutMs !== undefined) {
      signals.push(AbortSignal.timeout(this.options.responseTimeoutMs));
    }
    const signal = AbortSignal.any(signals);
    try {
      const response = await fetch(url, {
        method,
        headers,
        signal,
        ...(sendsBody ? { body: request.data as Uint8Array<ArrayBuffer> } : {}),
      });
      const body = await this.readBody(response, method);
      const responseMetadata = responseMetadataOf(response);
      if (this.options.errorIfNot2XX && (response.status < 200 || response.status > 299)) {
        throw errors.error(
          statusCode(response.status),
          `${method} ${url.pathname} answered ${response.status} ${response.statusText}`,
          { details: { statusCode: response.status, status: responseMetadata.status } },
        );
      }
      const contentType = response.headers.get("content-type") ?? undefined;
      return {
        data: body.byteLength > 0 ? body : null,
        metadata: responseMetadata,
        ...(contentType ? { contentType } : {}),
      };
    } catch (error) {
      throw this.requestError(error, method, url);
    }
  }

  /** Dapr's rule: the base URL without trailing slashes, a slash, the path without leading ones. */
  private requestUrl(path: string | undefined): URL {
    if (!path) return new URL(this.options.url);
    const base = this.options.url.href.replace(/\/+$/, "");
    try {
      return new URL(`${base}/${path.replace(/^\/+/, "")}`);
    } catch (error) {
      throw errors.invalid(`invalid path ${JSON.stringify(path)}`, { cause: error });
    }
  }

  private requestHeaders(metadata: Metadata): Headers {
    const headers = new Headers();
    for (const [name, value] of Object.entries(metadata)) {
      if (name.toLowerCase() === "path") continue;
      try {
        headers.set(name, value);
      } catch (error) {
        throw errors.invalid(
          `request metadata ${JSON.stringify(name)} is not a valid HTTP header`,
          {
            cause: error,
          },
        );
      }
    }
    if (this.options.token) headers.set(this.options.token.header, this.options.token.value);
    return headers;
  }

  /** Reads the body up to maxResponseBodySize; a larger body cancels the read and rejects. */
  private async readBody(response: Response, method: string): Promise<Uint8Array> {
    if (!response.body) return new Uint8Array();
    const limit = this.options.maxResponseBodyBytes;
    const declared = Number(response.headers.get("content-length") ?? Number.NaN);
    if (declared > limit) {
      await response.body.cancel();
      throw tooLarge(method, limit);
    }
    const chunks: Uint8Array[] = [];
    let size = 0;
    const reader = response.body.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.byteLength;
      if (size > limit) {
        await reader.cancel();
        throw tooLarge(method, limit);
      }
      chunks.push(value);
    }
    const body = new Uint8Array(size);
    let offset = 0;
    for (const chunk of chunks) {
      body.set(chunk, offset);
      offset += chunk.byteLength;
    }
    return body;
  }

  private requestError(error: unknown, method: string, url: URL): ComponentError {
    if (error instanceof ComponentError) return error;
    if (this.closed) {
      return errors.error("ERR_CLOSED", "the binding was closed during the request", {
        cause: error,
      });
    }
    if (error instanceof DOMException && error.name === "TimeoutError") {
      return errors.error(
        "ERR_TIMEOUT",
        `${method} ${url.pathname} took longer than responseTimeout (${this.options.responseTimeoutMs} ms)`,
        { cause: error },
      );
    }
    return errors.error("ERR_UNAVAILABLE", `${method} ${url.origin}${url.pathname} failed`, {
      cause: error,
    });
  }
}

function tooLarge(method: string, limit: number): ComponentError {
  return errors.error(
    "ERR_INTERNAL",
    `the response to ${method} is larger than maxResponseBodySize (${limit} bytes)`,
    { details: { maxResponseBodySize: limit } },
  );
}

function statusCode(status: number): ErrorCode {
  if (status === 404) return "ERR_NOT_FOUND";
  if (status === 408 || status === 504) return "ERR_TIMEOUT";
  if (status >= 500) return "ERR_UNAVAILABLE";
  return "ERR_INVALID_REQUEST";
}

/** `statusCode`, `status` (`200 OK`), then each header under its canonical name (`Content-Type`). */
function responseMetadataOf(response: Response): Metadata {
  const metadata: Metadata = {
    statusCode: String(response.status),
    status: `${response.status} ${response.statusText}`.trim(),
  };
  for (const [name, value] of response.headers) metadata[canonicalHeader(name)] = value;
  return metadata;
}

function canonicalHeader(name: string): string {
  return name
    .split("-")
    .map((part) => (part ? (part[0] as string).toUpperCase() + part.slice(1).toLowerCase() : part))
    .join("-");
}

/** Creates a `bindings.http` output binding from Dapr metadata. */
export async function createHttpBinding(
  metadata: Metadata,
  _context?: ComponentContext,
): Promise<HttpBinding> {
  return new HttpBinding(resolveHttpOptions(httpBindingOptions.parse(metadata)));
}

export const httpBindingDefinition: BindingDefinition = {
  type: COMPONENT,
  kind: "bindings",
  version: "v1",
  status: "beta",
  description: "HTTP requests to a base URL: get, post, put, patch, delete, options, head",
  /** A binding's capabilities are its operations. */
  capabilities: HTTP_OPERATIONS,
  directions: ["output"],
  options: httpBindingOptions,
  create: createHttpBinding,
};
