import { readFileSync } from "node:fs";
import type { ConnectionOptions } from "node:tls";
import { ConfigError } from "@outrig/core";
import type { ClientConfig } from "pg";

/** The TLS settings of a connection string, as libpq (and Dapr's pgx) reads them. */
const SSL_KEYS = ["sslmode", "sslrootcert", "sslcert", "sslkey"] as const;
type SslSettings = Partial<Record<(typeof SSL_KEYS)[number], string>>;

/**
 * Turns Dapr's `connectionString` into pg settings. A `postgres://` URL goes to pg without its
 * TLS parameters; the libpq keyword/value form (`host=localhost user=postgres port=5432
 * database=dapr_test`), which Dapr's documentation uses and pg does not read, is parsed here. TLS
 * follows libpq in both forms (pg itself would read `sslmode=require` as verify-full).
 */
export function connectionConfig(text: string, component: string): ClientConfig {
  const trimmed = text.trim();
  if (/^postgres(ql)?:\/\//i.test(trimmed)) {
    let url: URL;
    try {
      url = new URL(trimmed);
    } catch {
      throw invalid(component, "is not a valid postgres:// URL");
    }
    const settings: SslSettings = {};
    for (const key of SSL_KEYS) {
      const value = url.searchParams.get(key);
      if (value !== null) settings[key] = value;
      url.searchParams.delete(key);
    }
    if (Object.keys(settings).length === 0) return { connectionString: trimmed };
    const ssl = sslConfig(settings, component);
    // The URL without the TLS parameters, so pg's own reading of them cannot override ours.
    return { connectionString: url.toString(), ...(ssl === undefined ? {} : { ssl }) };
  }
  const pairs = parseKeywordValue(trimmed, component);
  const config: ClientConfig = {};
  const settings: SslSettings = {};
  for (const [key, value] of pairs) {
    switch (key) {
      case "host":
      case "hostaddr":
        config.host = value;
        break;
      case "port":
        if (!/^\d+$/.test(value))
          throw invalid(component, `port must be a number, got ${JSON.stringify(value)}`);
        config.port = Number(value);
        break;
      case "user":
        config.user = value;
        break;
      case "password":
        config.password = value;
        break;
      case "dbname":
      case "database":
        config.database = value;
        break;
      case "application_name":
        config.application_name = value;
        break;
      case "connect_timeout":
        if (/^\d+$/.test(value) && Number(value) > 0)
          config.connectionTimeoutMillis = Number(value) * 1000;
        break;
      case "sslmode":
      case "sslrootcert":
      case "sslcert":
      case "sslkey":
        settings[key] = value;
        break;
      default:
        // Other libpq settings (pool_max_conns, options, ...) have no pg equivalent here.
        break;
    }
  }
  const ssl = sslConfig(settings, component);
  if (ssl !== undefined) config.ssl = ssl;
  return config;
}

/**
 * libpq's `sslmode`: `disable` plain; `allow`, `prefer` and `require` encrypt without checking
 * the server (pg cannot fall back to plain, so `allow` and `prefer` need a TLS server); `require`
 * with `sslrootcert` and `verify-ca` check the chain; `verify-full` checks the chain and the host
 * name. `sslrootcert`, `sslcert` and `sslkey` are files, read at init. Without any of them: plain.
 */
function sslConfig(
  settings: SslSettings,
  component: string,
): ConnectionOptions | false | undefined {
  const mode = settings.sslmode ?? (Object.keys(settings).length > 0 ? "prefer" : undefined);
  if (mode === undefined) return undefined;
  const modes = ["disable", "allow", "prefer", "require", "verify-ca", "verify-full"];
  if (!modes.includes(mode)) {
    throw invalid(
      component,
      `unknown sslmode ${JSON.stringify(mode)} (one of ${modes.join(", ")})`,
    );
  }
  if (mode === "disable") return false;
  if (Boolean(settings.sslcert) !== Boolean(settings.sslkey)) {
    throw invalid(component, "sslcert and sslkey go together");
  }
  const read = (key: "sslrootcert" | "sslcert" | "sslkey") => {
    const path = settings[key] as string;
    try {
      return readFileSync(path, "utf8");
    } catch (error) {
      throw invalid(component, `${key}: cannot read ${path}: ${(error as Error).message}`);
    }
  };
  const ca = settings.sslrootcert ? read("sslrootcert") : undefined;
  const verify = mode === "verify-ca" || mode === "verify-full" || (mode === "require" && !!ca);
  return {
    rejectUnauthorized: verify,
    ...(verify && mode !== "verify-full" ? { checkServerIdentity: () => undefined } : {}),
    ...(ca ? { ca } : {}),
    ...(settings.sslcert ? { cert: read("sslcert"), key: read("sslkey") } : {}),
  };
}

function invalid(component: string, message: string): ConfigError {
  return new ConfigError([{ field: "connectionString", message }], { component });
}

/** libpq's format: `key = value` pairs; a value may be single-quoted, with `\'` and `\\` escapes. */
export function parseKeywordValue(text: string, component: string): [string, string][] {
  const pairs: [string, string][] = [];
  let i = 0;
  const skipSpace = () => {
    while (i < text.length && /\s/.test(text[i] as string)) i++;
  };
  while (true) {
    skipSpace();
    if (i >= text.length) break;
    const keyStart = i;
    while (i < text.length && /[A-Za-z0-9_]/.test(text[i] as string)) i++;
    const key = text.slice(keyStart, i).toLowerCase();
    skipSpace();
    if (!key || text[i] !== "=") {
      throw invalid(
        component,
        "must be a postgres:// URL or key=value pairs (host=... user=... dbname=...)",
      );
    }
    i++;
    skipSpace();
    let value = "";
    if (text[i] === "'") {
      i++;
      let closed = false;
      while (i < text.length) {
        const ch = text[i] as string;
        if (ch === "\\" && i + 1 < text.length) {
          value += text[i + 1];
          i += 2;
        } else if (ch === "'") {
          i++;
          closed = true;
          break;
        } else {
          value += ch;
          i++;
        }
      }
      if (!closed) throw invalid(component, `unterminated quoted value for ${key}`);
    } else {
      while (i < text.length && !/\s/.test(text[i] as string)) {
        if (text[i] === "\\" && i + 1 < text.length) i++;
        value += text[i];
        i++;
      }
    }
    pairs.push([key, value]);
  }
  return pairs;
}
