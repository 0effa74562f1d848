import { ConfigError, defineOptions, option, type ParsedOptions } from "@outrig/core";

/** Dapr's `bindings.http` metadata names. */
export const httpBindingOptions = defineOptions("bindings.http", {
  url: option.string({
    required: true,
    description:
      "Base URL of every request; the `path` request metadata is appended to it (http:// or https://)",
    example: "http://localhost:8080/api",
  }),
  responseTimeout: option.duration({
    description:
      "How long a request may take until its response body is read; unset means no limit (a bare number is seconds)",
    example: "30s",
  }),
  maxResponseBodySize: option.string({
    default: "100Mi",
    description:
      "Largest response body accepted, as bytes or a quantity (`100Mi`, `1Gi`, `500k`); a larger body rejects the invoke",
    example: "10Mi",
  }),
  errorIfNot2XX: option.boolean({
    default: true,
    description:
      "Reject the invoke with a ComponentError when the response status is not 2xx; `false` returns the response (status in metadata)",
  }),
  securityToken: option.string({
    sensitive: true,
    description: "A token sent with every request in the `securityTokenHeader` header",
  }),
  securityTokenHeader: option.string({
    description: "The header that carries `securityToken`, e.g. `Authorization`",
    example: "Authorization",
  }),
});

export type HttpBindingOptions = ParsedOptions<typeof httpBindingOptions.fields>;

const QUANTITY_UNITS: Record<string, number> = {
  "": 1,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  Ki: 1024,
  Mi: 1024 ** 2,
  Gi: 1024 ** 3,
};

/** Parses a Kubernetes-style quantity (`100Mi`, `5M`, `1024`) into bytes, as Dapr does. */
export function parseQuantity(text: string): number | undefined {
  const match = /^\s*(\d+(?:\.\d+)?)\s*(k|M|G|Ki|Mi|Gi)?\s*$/.exec(text);
  if (!match) return undefined;
  const bytes = Number(match[1]) * (QUANTITY_UNITS[match[2] ?? ""] as number);
  return Number.isFinite(bytes) && bytes > 0 ? Math.floor(bytes) : undefined;
}

export interface ResolvedHttpOptions {
  url: URL;
  responseTimeoutMs: number | undefined;
  maxResponseBodyBytes: number;
  errorIfNot2XX: boolean;
  token: { header: string; value: string } | undefined;
}

/** Parses the metadata and checks what the schema cannot: the URL, the size, the token pair. */
export function resolveHttpOptions(options: HttpBindingOptions): ResolvedHttpOptions {
  const issues: { field: string; message: string }[] = [];
  let url: URL | undefined;
  try {
    url = new URL(options.url);
    if (url.protocol !== "http:" && url.protocol !== "https:") {
      issues.push({ field: "url", message: "must be an http:// or https:// URL" });
    }
  } catch {
    issues.push({ field: "url", message: "must be an absolute URL" });
  }
  const maxResponseBodyBytes = parseQuantity(options.maxResponseBodySize);
  if (maxResponseBodyBytes === undefined) {
    issues.push({
      field: "maxResponseBodySize",
      message: "must be a positive number of bytes or a quantity such as 100Mi",
    });
  }
  if ((options.securityToken === undefined) !== (options.securityTokenHeader === undefined)) {
    issues.push({
      field: options.securityToken === undefined ? "securityToken" : "securityTokenHeader",
      message: "securityToken and securityTokenHeader go together",
    });
  }
  if (issues.length > 0) throw new ConfigError(issues, { component: "bindings.http" });
  return {
    url: url as URL,
    responseTimeoutMs: options.responseTimeout || undefined,
    maxResponseBodyBytes: maxResponseBodyBytes as number,
    errorIfNot2XX: options.errorIfNot2XX,
    token:
      options.securityToken && options.securityTokenHeader
        ? { header: options.securityTokenHeader, value: options.securityToken }
        : undefined,
  };
}
