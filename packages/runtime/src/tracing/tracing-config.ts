import type { ConfigurationResource } from "../resources/model.ts";

/** Dapr's rate when `samplingRate` is absent or empty (`diagUtils.GetTraceSamplingRate`). */
const DAPR_DEFAULT_SAMPLING_RATE = 1e-4;

/** Dapr's `otel.timeout` default, in milliseconds. */
const DEFAULT_OTEL_TIMEOUT_MS = 10_000;

export interface OtelExport {
  protocol: "http" | "grpc";
  /** The collector's full URL (scheme from `isSecure`; `/v1/traces` added for http). */
  url: string;
  headers: Record<string, string>;
  timeoutMs: number;
}

/** What the Configuration resources say about tracing, as the sidecar applies it. */
export interface TracingConfig {
  /** 0 turns tracing off: no span is made. */
  samplingRate: number;
  /** `zipkin.endpointAddress`: Zipkin's v2 spans URL. */
  zipkin?: string;
  otel?: OtelExport;
  /** `stdout`: each finished span is logged. */
  stdout: boolean;
  /** Fields found but not applied, for a warning each (file and field). */
  unapplied: { file: string; name: string; field: string }[];
}

const APPLIED = new Set([
  "samplingRate",
  "stdout",
  "zipkin.endpointAddress",
  "otel.protocol",
  "otel.endpointAddress",
  "otel.isSecure",
  "otel.headers",
  "otel.timeout",
]);

/** A bad tracing setting: the sidecar does not start, naming resource, field and value. */
export class TracingConfigError extends Error {}

function truthy(value: unknown): boolean {
  return value === true || value === "true";
}

/**
 * Reads `spec.tracing` of every Configuration (a later one overrides an earlier one field by
 * field). Without any tracing section tracing is off, as it costs nothing then; a section without
 * `samplingRate` samples at Dapr's default 1/10000. A value Dapr would silently read as its
 * default (a rate that is not a number in [0, 1], an unknown `otel.protocol`) fails the start
 * instead, naming it. Any field Dapr does not define is listed so the sidecar warns by name.
 */
export function tracingConfig(configurations: readonly ConfigurationResource[]): TracingConfig {
  const out: TracingConfig = { samplingRate: 0, stdout: false, unapplied: [] };
  let seen = false;
  for (const c of configurations) {
    const spec = c.spec?.tracing as Record<string, unknown> | undefined;
    if (!spec || typeof spec !== "object") continue;
    const where = `Configuration ${c.name} (${c.source.file}) spec.tracing`;
    if (!seen) out.samplingRate = DAPR_DEFAULT_SAMPLING_RATE;
    seen = true;
    const rate = spec.samplingRate;
    if (rate !== undefined && rate !== null && rate !== "") {
      const parsed = typeof rate === "number" ? rate : Number(String(rate).trim());
      if (!Number.isFinite(parsed) || parsed < 0 || parsed > 1)
        throw new TracingConfigError(
          `${where}.samplingRate must be a number from "0" to "1", got ${JSON.stringify(rate)}`,
        );
      out.samplingRate = parsed;
    }
    if (spec.stdout !== undefined) out.stdout = truthy(spec.stdout);
    const zipkin = spec.zipkin as Record<string, unknown> | undefined;
    if (typeof zipkin?.endpointAddress === "string" && zipkin.endpointAddress)
      out.zipkin = checkedUrl(zipkin.endpointAddress, `${where}.zipkin.endpointAddress`);
    const otel = spec.otel as Record<string, unknown> | undefined;
    if (typeof otel?.endpointAddress === "string" && otel.endpointAddress)
      out.otel = otelExport(otel, `${where}.otel`);
    for (const [key, value] of Object.entries(spec)) {
      const fields =
        (key === "zipkin" || key === "otel") && value && typeof value === "object"
          ? Object.keys(value).map((k) => `${key}.${k}`)
          : [key];
      for (const field of fields) {
        if (!APPLIED.has(field))
          out.unapplied.push({ file: c.source.file, name: c.name, field: `spec.tracing.${field}` });
      }
    }
  }
  return out;
}

function checkedUrl(value: string, where: string): string {
  try {
    const url = new URL(value);
    if (url.protocol === "http:" || url.protocol === "https:") return url.toString();
  } catch {}
  throw new TracingConfigError(`${where} must be an http(s) URL, got ${JSON.stringify(value)}`);
}

/**
 * Dapr's otel exporter settings: `endpointAddress` is `host:port` (a scheme, if given, is
 * dropped: `isSecure` decides it, true unless set false), `headers` is `k=v,k2=v2`, and
 * `timeout` is milliseconds.
 */
function otelExport(otel: Record<string, unknown>, where: string): OtelExport {
  const protocol = String(otel.protocol ?? "http").toLowerCase();
  if (protocol !== "http" && protocol !== "grpc")
    throw new TracingConfigError(
      `${where}.protocol must be "http" or "grpc", got ${JSON.stringify(otel.protocol)}`,
    );
  const secure = otel.isSecure === undefined ? true : truthy(otel.isSecure);
  const address = String(otel.endpointAddress).replace(/^[a-z]+:\/\//i, "");
  const base = checkedUrl(`${secure ? "https" : "http"}://${address}`, `${where}.endpointAddress`);
  const url =
    protocol === "http" && new URL(base).pathname === "/"
      ? new URL("/v1/traces", base).toString()
      : base;
  const headers: Record<string, string> = {};
  if (otel.headers !== undefined) {
    for (const pair of String(otel.headers).split(",")) {
      if (!pair.trim()) continue;
      const eq = pair.indexOf("=");
      if (eq <= 0)
        throw new TracingConfigError(
          `${where}.headers must be key=value pairs separated by commas, got ${JSON.stringify(pair)}`,
        );
      headers[pair.slice(0, eq).trim()] = pair.slice(eq + 1).trim();
    }
  }
  let timeoutMs = DEFAULT_OTEL_TIMEOUT_MS;
  if (otel.timeout !== undefined) {
    timeoutMs = Number(otel.timeout);
    if (!Number.isInteger(timeoutMs) || timeoutMs <= 0)
      throw new TracingConfigError(
        `${where}.timeout must be a positive number of milliseconds, got ${JSON.stringify(otel.timeout)}`,
      );
  }
  return { protocol, url, headers, timeoutMs };
}
