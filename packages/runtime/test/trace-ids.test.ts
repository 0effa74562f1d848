// TraceIds cuts W3C IDs from a pool of random bytes: each is lowercase hex of the right length,
// never all zeros, and no two drawn across several pool refills are the same.
import { describe, expect, it } from "vitest";
import { TraceIds } from "../src/tracing/trace-ids.ts";

describe("TraceIds", () => {
  it("draws distinct, valid trace and span IDs across pool refills", () => {
    const ids = new TraceIds();
    const seen = new Set<string>();
    // 4096 random bytes a pool: 2,000 of each kind cross about a dozen refills.
    for (let i = 0; i < 2000; i++) {
      const trace = ids.traceId();
      const span = ids.spanId();
      expect(trace).toMatch(/^[0-9a-f]{32}$/);
      expect(span).toMatch(/^[0-9a-f]{16}$/);
      expect(trace).not.toBe("0".repeat(32));
      expect(span).not.toBe("0".repeat(16));
      seen.add(trace).add(span);
    }
    expect(seen.size).toBe(4000);
  });
});
