import { getMetadata, type Metadata } from "@outrig/core";

/**
 * One published message as the fields of a stream entry. `data` is the field Dapr's Redis
 * pub/sub writes and reads, so the two interoperate; `metadata` (JSON), `contentType` and
 * `expiration` (epoch ms, from `ttlInSeconds`) are added only when present.
 */
export interface EntryFields {
  data: Uint8Array;
  metadata?: Metadata;
  contentType?: string;
  /** Epoch milliseconds after which the message must not be delivered. */
  expiration?: number;
}

/** A stream entry read back: its id and fields. */
export interface StreamEntry {
  id: string;
  fields: EntryFields;
}

/** Field/value arguments for XADD. */
export function entryArgs(fields: EntryFields): (string | Buffer)[] {
  const args: (string | Buffer)[] = [
    "data",
    Buffer.isBuffer(fields.data)
      ? fields.data
      : Buffer.from(fields.data.buffer, fields.data.byteOffset, fields.data.byteLength),
  ];
  if (fields.metadata && Object.keys(fields.metadata).length > 0) {
    args.push("metadata", JSON.stringify(fields.metadata));
  }
  if (fields.contentType) args.push("contentType", fields.contentType);
  if (fields.expiration !== undefined) args.push("expiration", String(fields.expiration));
  return args;
}

/** The expiry a publish asks for through `ttlInSeconds` (positive seconds), as epoch ms. */
export function expirationOf(metadata: Metadata | undefined, now: number): number | undefined {
  const raw = getMetadata(metadata, "ttlInSeconds");
  if (raw === undefined || raw.trim() === "") return undefined;
  const seconds = Number(raw.trim());
  return Number.isFinite(seconds) && seconds > 0 ? now + seconds * 1000 : undefined;
}

/** Reads `[id, [field, value, ...]]` as returned by XREADGROUP/XAUTOCLAIM in Buffer mode. */
export function parseEntry(raw: unknown): StreamEntry | undefined {
  if (!Array.isArray(raw) || raw.length < 2) return undefined;
  const [id, list] = raw as [Buffer, Buffer[] | null];
  // A claimed entry that was trimmed from the stream in the meantime has no fields.
  if (!Array.isArray(list)) return undefined;
  const fields: EntryFields = { data: new Uint8Array(0) };
  for (let i = 0; i + 1 < list.length; i += 2) {
    const name = (list[i] as Buffer).toString("utf8");
    const value = list[i + 1] as Buffer;
    if (name === "data") {
      fields.data = new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
    } else if (name === "metadata") {
      try {
        const parsed = JSON.parse(value.toString("utf8")) as unknown;
        if (parsed && typeof parsed === "object" && !Array.isArray(parsed)) {
          fields.metadata = Object.fromEntries(
            Object.entries(parsed as Record<string, unknown>).map(([k, v]) => [k, String(v)]),
          );
        }
      } catch {
        // Metadata a foreign publisher wrote in another form is dropped, not fatal.
      }
    } else if (name === "contentType") {
      fields.contentType = value.toString("utf8");
    } else if (name === "expiration") {
      const ms = Number(value.toString("utf8"));
      if (Number.isFinite(ms)) fields.expiration = ms;
    }
  }
  return { id: id.toString("utf8"), fields };
}

/** Entries of one stream from an XREADGROUP reply: `[[stream, [[id, fields], ...]]]` or null. */
export function readGroupEntries(reply: unknown): unknown[] {
  if (!Array.isArray(reply) || reply.length === 0) return [];
  const stream = reply[0] as [Buffer, unknown[]];
  return Array.isArray(stream?.[1]) ? stream[1] : [];
}
