import { ConfigError } from "@outrig/core";
import type { ClientConfig } from "pg";

/**
 * Turns Dapr's `connectionString` into pg settings. A `postgres://` URL goes to pg as it is; the
 * libpq keyword/value form (`host=localhost user=postgres port=5432 database=dapr_test`), which
 * Dapr's documentation uses and pg does not read, is parsed here.
 */
export function connectionConfig(text: string, component: string): ClientConfig {
  const trimmed = text.trim();
  if (/^postgres(ql)?:\/\//i.test(trimmed)) return { connectionString: trimmed };
  const pairs = parseKeywordValue(trimmed, component);
  const config: ClientConfig = {};
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
        if (value === "require" || value === "prefer" || value === "allow")
          config.ssl = { rejectUnauthorized: false };
        else if (value === "verify-ca" || value === "verify-full")
          config.ssl = { rejectUnauthorized: true };
        else if (value !== "disable")
          throw invalid(component, `unknown sslmode ${JSON.stringify(value)}`);
        break;
      default:
        // Other libpq settings (pool_max_conns, options, ...) have no pg equivalent here.
        break;
    }
  }
  return config;
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
