import { ComponentError } from "./errors.ts";

/** Dapr's component and request metadata: a string-to-string map. */
export type Metadata = Record<string, string>;

/** Reads a key case-insensitively, as Dapr does for component and request metadata. */
export function getMetadata(metadata: Metadata | undefined, key: string): string | undefined {
  if (!metadata) return undefined;
  if (key in metadata) return metadata[key];
  const lower = key.toLowerCase();
  for (const [k, v] of Object.entries(metadata)) {
    if (k.toLowerCase() === lower) return v;
  }
  return undefined;
}

const TTL_MIN = -1;
const TTL_MAX = 2 ** 31 - 1;

/**
 * Parses `ttlInSeconds` from request metadata. Returns `undefined` when absent, `-1` to remove a
 * TTL (as Dapr does), or a positive integer; throws ERR_INVALID_REQUEST for anything else.
 */
export function parseTtlInSeconds(metadata: Metadata | undefined): number | undefined {
  const raw = getMetadata(metadata, "ttlInSeconds");
  if (raw === undefined || raw === "") return undefined;
  if (!/^-?\d+$/.test(raw.trim())) {
    throw new ComponentError(
      "ERR_INVALID_REQUEST",
      `incorrect value for metadata 'ttlInSeconds': ${JSON.stringify(raw)} is not an integer`,
    );
  }
  const value = Number(raw.trim());
  if (value < TTL_MIN || value > TTL_MAX) {
    throw new ComponentError(
      "ERR_INVALID_REQUEST",
      `incorrect value for metadata 'ttlInSeconds': ${value} is outside ${TTL_MIN}..${TTL_MAX}`,
    );
  }
  return value === 0 ? undefined : value;
}

/** `ttlExpireTime` response metadata: RFC 3339 in UTC, as Dapr returns it. */
export function ttlExpireTimeMetadata(expiresAtMs: number | undefined): Metadata | undefined {
  if (expiresAtMs === undefined) return undefined;
  return { ttlExpireTime: new Date(expiresAtMs).toISOString() };
}

/** Dapr's truthy spellings for boolean metadata. */
export function isTruthy(value: string | undefined): boolean {
  if (value === undefined) return false;
  return ["y", "yes", "true", "t", "on", "1"].includes(value.trim().toLowerCase());
}
