import { createHash } from "node:crypto";
import type { Tables } from "./schema.ts";

/** An item is live while it has no expiry or its expiry is still ahead. */
const LIVE = "(expiredate IS NULL OR expiredate > now())";
const LIVE_S = "(s.expiredate IS NULL OR s.expiredate > now())";
/** Binary values are kept as a base64 jsonb string (Dapr's layout); everything else as jsonb. */
const VALUE = "CASE WHEN isbinary THEN value #>> '{}' ELSE value::text END AS value";
const COLUMNS = `key, ${VALUE}, isbinary, xmin::text AS etag, expiredate`;
/** `$ttl` is whole seconds or NULL (no expiry). */
const expiry = (ttl: string) => `now() + ${ttl}::integer * interval '1 second'`;
const UPSERT_SET =
  "value = EXCLUDED.value, isbinary = EXCLUDED.isbinary, updatedate = now(), expiredate = EXCLUDED.expiredate";

/**
 * Every statement the store runs against one table, built once. Requests only ever fill `$n`
 * parameters; the table names in the text are validated and quoted at init. Single-item
 * statements carry a name, so each pooled connection prepares them once.
 */
export function statements(t: Tables) {
  const tag = createHash("sha1").update(`${t.state}|${t.metadata}`).digest("hex").slice(0, 10);
  const named = (name: string, text: string) => ({ name: `outrig_${tag}_${name}`, text });
  return {
    get: named("get", `SELECT ${COLUMNS} FROM ${t.state} WHERE key = $1 AND ${LIVE}`),
    bulkGet: named(
      "bulk_get",
      `SELECT ${COLUMNS} FROM ${t.state} WHERE key = ANY($1::text[]) AND ${LIVE}`,
    ),
    /** $1 key, $2 value, $3 isbinary, $4 ttl. */
    upsert: named(
      "upsert",
      `INSERT INTO ${t.state} AS s (key, value, isbinary, insertdate, expiredate)
       VALUES ($1, $2::jsonb, $3, now(), ${expiry("$4")})
       ON CONFLICT (key) DO UPDATE SET ${UPSERT_SET}
       RETURNING xmin::text AS etag`,
    ),
    /** Insert-if-absent; an expired row counts as absent and is overwritten. */
    insertIfAbsent: named(
      "insert_if_absent",
      `INSERT INTO ${t.state} AS s (key, value, isbinary, insertdate, expiredate)
       VALUES ($1, $2::jsonb, $3, now(), ${expiry("$4")})
       ON CONFLICT (key) DO UPDATE SET ${UPSERT_SET}
       WHERE s.expiredate IS NOT NULL AND s.expiredate <= now()
       RETURNING xmin::text AS etag`,
    ),
    /** $5 etag: updates only the live row whose xmin equals it. */
    updateIfEtag: named(
      "update_if_etag",
      `UPDATE ${t.state} AS s
       SET value = $2::jsonb, isbinary = $3, updatedate = now(), expiredate = ${expiry("$4")}
       WHERE key = $1 AND xmin = $5::text::xid AND ${LIVE_S}
       RETURNING xmin::text AS etag`,
    ),
    delete: named("delete", `DELETE FROM ${t.state} WHERE key = $1`),
    deleteIfEtag: named(
      "delete_if_etag",
      `DELETE FROM ${t.state} WHERE key = $1 AND xmin = $2::text::xid AND ${LIVE}`,
    ),
    /**
     * A whole bulk set in one statement: arrays of key, value, isbinary, ttl, etag (NULL for
     * none) and first-write. Each item goes through the CTE of its mode and is applied on its own;
     * the keys returned are the ones written, so a key missing from the result failed its ETag or
     * first-write condition. Keys must be unique within one call (one CTE may touch a row once).
     */
    bulkSet: `WITH input AS (
        SELECT * FROM unnest($1::text[], $2::jsonb[], $3::boolean[], $4::integer[], $5::text[], $6::boolean[])
          AS i(key, value, isbinary, ttl, etag, first)
      ), by_etag AS (
        UPDATE ${t.state} AS s
        SET value = input.value, isbinary = input.isbinary, updatedate = now(), expiredate = ${expiry("input.ttl")}
        FROM input
        WHERE input.etag IS NOT NULL AND s.key = input.key AND s.xmin = input.etag::xid AND ${LIVE_S}
        RETURNING s.key
      ), first_write AS (
        INSERT INTO ${t.state} AS s (key, value, isbinary, insertdate, expiredate)
        SELECT key, value, isbinary, now(), ${expiry("ttl")} FROM input WHERE etag IS NULL AND first
        ON CONFLICT (key) DO UPDATE SET ${UPSERT_SET}
        WHERE s.expiredate IS NOT NULL AND s.expiredate <= now()
        RETURNING s.key
      ), last_write AS (
        INSERT INTO ${t.state} AS s (key, value, isbinary, insertdate, expiredate)
        SELECT key, value, isbinary, now(), ${expiry("ttl")} FROM input WHERE etag IS NULL AND NOT first
        ON CONFLICT (key) DO UPDATE SET ${UPSERT_SET}
        RETURNING s.key
      )
      SELECT key FROM by_etag UNION ALL SELECT key FROM first_write UNION ALL SELECT key FROM last_write`,
    /** The common bulk set, every item a plain last-write upsert: arrays of key, value, isbinary, ttl. */
    bulkUpsert: named(
      "bulk_upsert",
      `INSERT INTO ${t.state} AS s (key, value, isbinary, insertdate, expiredate)
       SELECT key, value, isbinary, now(), ${expiry("ttl")}
       FROM unnest($1::text[], $2::jsonb[], $3::boolean[], $4::integer[]) AS i(key, value, isbinary, ttl)
       ON CONFLICT (key) DO UPDATE SET ${UPSERT_SET}`,
    ),
    /** Arrays of key and etag (NULL for none); returns the keys deleted. */
    bulkDelete: `WITH input AS (
        SELECT * FROM unnest($1::text[], $2::text[]) AS i(key, etag)
      )
      DELETE FROM ${t.state} AS s USING input
      WHERE s.key = input.key AND (input.etag IS NULL OR (s.xmin = input.etag::xid AND ${LIVE_S}))
      RETURNING s.key`,
    /** $1 prefix ending in `||`: deletes the direct children; returns whether each was live. */
    deleteWithPrefix: `DELETE FROM ${t.state}
      WHERE starts_with(key, $1) AND strpos(substr(key, char_length($1) + 1), '||') = 0
      RETURNING ${LIVE} AS live`,
    /** $1 LIKE pattern, $2 key to start after (or NULL), $3 limit (or NULL). */
    keysLike: `SELECT key FROM ${t.state}
      WHERE key LIKE $1 AND ${LIVE} AND ($2::text IS NULL OR key > $2::text)
      ORDER BY key LIMIT $3::bigint`,
    query: (where: string, orderBy: string, limitParam: string, offsetParam: string) =>
      `SELECT ${COLUMNS} FROM ${t.state} WHERE ${LIVE} AND (${where})
       ORDER BY ${orderBy} LIMIT ${limitParam}::bigint OFFSET ${offsetParam}::bigint`,
    /**
     * Claims this cleanup round: succeeds (returns a row) only when no process has cleaned within
     * the interval ($2 ms), so several processes sharing a table do not all clean.
     */
    claimCleanup: `INSERT INTO ${t.metadata} AS m (key, value) VALUES ($1, now()::text)
      ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value
      WHERE m.value::timestamptz <= now() - $2::bigint * interval '1 millisecond'
      RETURNING key`,
    deleteExpired: `DELETE FROM ${t.state} WHERE expiredate IS NOT NULL AND expiredate <= now()`,
  };
}

export type Statements = ReturnType<typeof statements>;
