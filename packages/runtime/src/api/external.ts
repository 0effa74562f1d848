import { HttpTarget } from "../app/http-client.ts";
import type { ResolvedHttpEndpoint } from "../components/http-endpoints.ts";

/**
 * External service invocation (Dapr's HTTPEndpoint): by an endpoint's name, or by a URL as the
 * app id. A URL is only ever called when its origin is an HTTPEndpoint's `baseUrl` or its host
 * is on the sidecar's `allowedExternalHosts`, so the API cannot be used to reach any host and
 * port the sidecar can (SSRF).
 */

export interface ExternalTarget {
  pool: HttpTarget;
  /** The base URL's path, prepended to the method. */
  basePath: string;
  /** `spec.headers` of the endpoint (plain and from secrets), if called through one. */
  headers: Record<string, string>;
}

const pools = new Map<string, HttpTarget>();

function poolFor(url: URL, endpoint: ResolvedHttpEndpoint | undefined): HttpTarget {
  const tls = url.protocol === "https:";
  const port = Number(url.port || (tls ? 443 : 80));
  // An endpoint's own CA or client certificate needs connections of its own.
  const own = tls && endpoint?.tls ? ` ${endpoint.name}` : "";
  const key = `${url.protocol}//${url.hostname}:${port}${own}`;
  let pool = pools.get(key);
  if (!pool) {
    pool = new HttpTarget(
      url.hostname.replace(/^\[|\]$/g, ""),
      port,
      64,
      tls,
      own ? endpoint?.tls : undefined,
    );
    pools.set(key, pool);
  }
  return pool;
}

/** Closes the pools to external hosts (with the last sidecar). */
export function closeExternalPools(): void {
  for (const p of pools.values()) p.close();
  pools.clear();
}

function target(url: URL, endpoint: ResolvedHttpEndpoint | undefined): ExternalTarget {
  return {
    pool: poolFor(url, endpoint),
    basePath: url.pathname.replace(/\/+$/, ""),
    headers: endpoint?.headers ?? {},
  };
}

function origin(url: URL): string {
  const tls = url.protocol === "https:";
  return `${url.protocol}//${url.hostname}:${url.port || (tls ? "443" : "80")}`.toLowerCase();
}

/**
 * The external target `appId` names, a string saying why it may not be called, or undefined
 * when it is not external at all (an app id).
 */
export function externalTarget(
  appId: string,
  endpoints: readonly ResolvedHttpEndpoint[],
  allowedHosts: readonly string[],
): ExternalTarget | string | undefined {
  const byName = endpoints.find((e) => e.name === appId);
  if (byName) return target(new URL(byName.baseUrl), byName);
  if (!/^https?:\/\//i.test(appId)) return undefined;
  let url: URL;
  try {
    url = new URL(appId);
  } catch {
    return `${appId} is not a valid URL`;
  }
  const wanted = origin(url);
  const endpoint = endpoints.find((e) => origin(new URL(e.baseUrl)) === wanted);
  if (endpoint) return target(url, endpoint);
  const host = url.hostname.toLowerCase();
  const hostPort = `${host}:${url.port || (url.protocol === "https:" ? "443" : "80")}`;
  if (allowedHosts.some((h) => h.toLowerCase() === host || h.toLowerCase() === hostPort)) {
    return target(url, undefined);
  }
  return `external host ${url.host} is not allowed: name it in an HTTPEndpoint resource or in allowedExternalHosts`;
}
