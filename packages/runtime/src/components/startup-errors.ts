import { ComponentError, ConfigError, type Metadata } from "@outrig/core";
import type { ComponentResource } from "../resources/model.ts";
import { locate } from "../resources/parse.ts";

/** Metadata names whose values are secrets (Dapr's components name them this way). */
const SECRET_NAME =
  /password|passphrase|secret|token|credential|apikey|accesskey|privatekey|clientkey|sas/i;
/** Metadata names that address the server, blamed when an error names no address. */
const ADDRESS_NAME =
  /^(url|host|hosts|hostname|brokers|endpoint|server|servers|connectionstring|redishost|redishosts)$/i;
/** `host:port` in an error text (IPv4, a name, or a bracketed IPv6 address). */
const ADDRESS = /(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9][A-Za-z0-9.-]*):(\d{1,5})\b/g;

/** The secret strings a metadata map holds: secret-named values, URL and key=value passwords. */
function secretsOf(resource: ComponentResource, metadata: Metadata): string[] {
  const out = new Set<string>();
  const fromSecretStore = new Set(
    resource.metadata.filter((m) => m.secretKeyRef !== undefined).map((m) => m.name),
  );
  for (const [name, value] of Object.entries(metadata)) {
    if (typeof value !== "string" || value === "") continue;
    if (SECRET_NAME.test(name) || fromSecretStore.has(name)) out.add(value);
    for (const m of value.matchAll(/:\/\/[^:/@\s]*:([^@\s]+)@/g)) if (m[1]) out.add(m[1]);
    for (const m of value.matchAll(/\bpassword=('[^']*'|[^\s;]+)/gi)) if (m[1]) out.add(m[1]);
  }
  // Longest first, so a secret containing another is replaced whole.
  return [...out].filter((s) => s.length >= 3).sort((a, b) => b.length - a.length);
}

/** `text` with every secret of the component's metadata replaced by `***`. */
export function redactSecrets(
  text: string,
  resource: ComponentResource,
  metadata: Metadata,
): string {
  let out = text;
  for (const secret of secretsOf(resource, metadata)) {
    out = out.split(secret).join("***");
    const encoded = encodeURIComponent(secret);
    if (encoded !== secret) out = out.split(encoded).join("***");
  }
  return out;
}

/**
 * The metadata field a start-up failure is about: the one whose value holds the address the error
 * names (`127.0.0.1:6379` in `redisHost` or inside a connection string), else the one that
 * addresses the server, else none.
 */
function blamedField(message: string, metadata: Metadata): string | undefined {
  const entries = Object.entries(metadata).filter(
    (e): e is [string, string] => typeof e[1] === "string",
  );
  for (const m of message.matchAll(ADDRESS)) {
    const host = (m[1] as string).replace(/^\[|\]$/g, "");
    const port = m[2] as string;
    const hit =
      entries.find(([, v]) => v.includes(`${host}:${port}`)) ??
      entries.find(([, v]) => v.includes(host) && v.includes(port));
    if (hit) return hit[0];
  }
  return entries.find(([name]) => ADDRESS_NAME.test(name))?.[0];
}

/** The `host:port` addresses a metadata value names: URLs, `host:port` lists, `host=… port=…`. */
function addressesIn(value: string): string[] {
  const out: string[] = [];
  const host = /\bhost=([^\s;]+)/i.exec(value)?.[1];
  const port = /\bport=(\d+)/i.exec(value)?.[1];
  if (host) out.push(port ? `${host}:${port}` : host);
  for (const token of value.split(/[\s,;]+/)) {
    if (/^[A-Za-z][A-Za-z0-9+.-]*:\/\//.test(token)) {
      try {
        const url = new URL(token);
        if (url.host) out.push(url.host);
      } catch {
        // Not a URL after all: nothing to name.
      }
    } else if (/^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9][A-Za-z0-9.-]*):\d{1,5}$/.test(token))
      out.push(token);
  }
  return [...new Set(out)];
}

/**
 * A component that failed to start, as an error naming where: the resource file, document and
 * line, the component's name and type, and the metadata field it is about, with the cause's text
 * (secrets removed). Configuration errors keep their own issues; their code is kept otherwise.
 */
export function startupFailure(
  error: unknown,
  resource: ComponentResource,
  metadata: Metadata | undefined,
): unknown {
  if (error instanceof ConfigError) return error;
  const cause = error instanceof Error ? error.message : String(error);
  const text = metadata ? redactSecrets(cause, resource, metadata) : cause;
  const field = metadata ? blamedField(text, metadata) : undefined;
  // A component that timed out (a client still retrying) may not say what it was reaching for.
  const named = [...text.matchAll(ADDRESS)].length > 0;
  const value = field ? metadata?.[field] : undefined;
  const addresses = !named && typeof value === "string" ? addressesIn(value) : [];
  const reaching = addresses.length > 0 ? ` (reaching ${addresses.join(", ")})` : "";
  const where = locate(
    resource.source,
    `component ${resource.name} (${resource.type}) ${field ? `spec.metadata.${field}` : "spec"}`,
    field ? resource.metadataLines[field] : resource.fieldLines["spec.type"],
  );
  return new ComponentError(
    error instanceof ComponentError ? error.code : "ERR_UNAVAILABLE",
    `${where}: failed to start: ${text}${reaching}`,
    { component: resource.name },
  );
}
