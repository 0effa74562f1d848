import { describe, expect, it } from "vitest";
import { resolveConfig } from "../src/pubsub/config.ts";
import { parsePayload, payload, range } from "../src/pubsub/payload.ts";
import { DeliveryTracker } from "../src/pubsub/tracker.ts";
import { waitUntil } from "../src/testing/wait.ts";

describe("pub/sub suite helpers", () => {
  it("reads back its own payloads and ignores other runs' and foreign ones", () => {
    expect(parsePayload(payload("abc123", 42), "abc123")).toBe(42);
    expect(parsePayload(payload("abc123", 42), "other")).toBeUndefined();
    expect(parsePayload(new TextEncoder().encode("hello"), "abc123")).toBeUndefined();
    expect(parsePayload(new Uint8Array([0xff, 0xfe]), "abc123")).toBeUndefined();
    expect(range(5, 3)).toEqual([5, 6, 7]);
  });

  it("fails the first two and every fifth first-time delivery, and needs each to come back", () => {
    const tracker = new DeliveryTracker({ failurePattern: true });
    const outcomes = range(1, 11).map((seq) => tracker.deliver(seq));
    expect(outcomes).toEqual([
      "fail",
      "fail",
      "ok",
      "ok",
      "fail",
      "ok",
      "ok",
      "ok",
      "ok",
      "fail",
      "ok",
    ]);
    expect(tracker.notRedelivered()).toEqual([1, 2, 5, 10]);
    expect(tracker.missing(range(1, 11))).toEqual([1, 2, 5, 10]);
    // A redelivery is not a first-time delivery: it succeeds and does not shift the pattern.
    expect([1, 2, 5, 10].map((seq) => tracker.deliver(seq))).toEqual(["ok", "ok", "ok", "ok"]);
    expect(tracker.deliver(3)).toBe("duplicate");
    expect(tracker.missing(range(1, 11))).toEqual([]);
    expect(tracker.notRedelivered()).toEqual([]);
    expect(tracker.attempts.get(1)).toBe(2);
  });

  it("accepts every delivery when the failure pattern is off", () => {
    const tracker = new DeliveryTracker({ failurePattern: false });
    expect(range(1, 5).map((seq) => tracker.deliver(seq))).toEqual(["ok", "ok", "ok", "ok", "ok"]);
  });

  it("explains what was missing when a wait times out", async () => {
    await expect(
      waitUntil(
        () => false,
        30,
        () => "seq 7 never arrived",
        5,
      ),
    ).rejects.toThrow(/timed out after 30 ms: seq 7 never arrived/);
    let n = 0;
    await expect(
      waitUntil(
        () => ++n >= 3,
        1_000,
        () => "unused",
        1,
      ),
    ).resolves.toBeUndefined();
  });

  it("awaits an async predicate and names a plain string or the predicate itself on timeout", async () => {
    let n = 0;
    await expect(waitUntil(async () => ++n >= 3, 1_000, "three polls", 1)).resolves.toBeUndefined();
    expect(n).toBe(3);
    await expect(waitUntil(async () => false, 20, "the broker", 5)).rejects.toThrow(
      /timed out after 20 ms: the broker$/,
    );
    const ready = false;
    await expect(waitUntil(() => ready, 20, undefined, 5)).rejects.toThrow(/ms: .*ready/);
  });

  it("uses Dapr's defaults unless a knob is given", () => {
    const create = async () => {
      throw new Error("not called");
    };
    const defaults = resolveConfig({ name: "x", create });
    expect(defaults).toMatchObject({
      messageCount: 10,
      maxReadDurationMs: 60_000,
      waitBeforePublishMs: 5_000,
      failureSleepMs: 1_000,
      sharedBroker: true,
      metadataRoundTrip: false,
    });
    expect(defaults.partitionKeyMetadata("k")).toEqual({ partitionKey: "k" });
    const tuned = resolveConfig({
      name: "x",
      create,
      messageCount: 4,
      waitBeforePublishMs: undefined,
    });
    expect(tuned.messageCount).toBe(4);
    expect(tuned.waitBeforePublishMs).toBe(5_000);
  });
});
