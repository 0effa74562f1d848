import { randomFillSync } from "node:crypto";

/** Random bytes drawn at a time: one draw covers about 170 new traces. */
const POOL_BYTES = 4096;
const ZERO_TRACE_ID = "0".repeat(32);
const ZERO_SPAN_ID = "0".repeat(16);

/**
 * W3C trace and span IDs cut from one hex string of random bytes. The SDK's RandomIdGenerator
 * fills a Buffer from Math.random and hex-encodes it for every ID, about 1,400 instructions a
 * traced request (callgrind); a slice of a flat string is a small view of it, and the bytes come
 * from the system's CSPRNG, as W3C Trace Context recommends.
 */
export class TraceIds {
  #pool = "";
  #at = 0;

  traceId(): string {
    return this.#take(32, ZERO_TRACE_ID);
  }

  spanId(): string {
    return this.#take(16, ZERO_SPAN_ID);
  }

  #take(length: number, invalid: string): string {
    for (;;) {
      if (this.#at + length > this.#pool.length) {
        this.#pool = randomFillSync(Buffer.allocUnsafe(POOL_BYTES)).toString("hex");
        this.#at = 0;
      }
      const id = this.#pool.slice(this.#at, this.#at + length);
      this.#at += length;
      // All zeros is W3C's invalid ID; the first digit settles it for 15 IDs in 16.
      if (id.charCodeAt(0) !== 48 || id !== invalid) return id;
    }
  }
}
