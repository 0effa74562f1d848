import { describe, expect, it } from "vitest";
import { formatDuration, parseDuration } from "../src/index.ts";

describe("parseDuration", () => {
  it.each([
    ["500ms", 500],
    ["5s", 5000],
    ["1m", 60_000],
    ["1h", 3_600_000],
    ["1m30s", 90_000],
    ["1h2m3s", 3_723_000],
    ["1.5s", 1500],
    ["250us", 0.25],
    ["250µs", 0.25],
    ["1000000ns", 1],
    ["0", 0],
    ["-5s", -5000],
    [" 5s ", 5000],
  ])("%s → %d ms", (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  it("reads a bare number in the given unit (seconds by default)", () => {
    expect(parseDuration("10")).toBe(10_000);
    expect(parseDuration("10", "ms")).toBe(10);
    expect(parseDuration("2.5")).toBe(2500);
  });

  it.each(["", "   ", "s", "5 s", "5sec", "1d", "abc", "5s junk", "--5s"])("rejects %j", (text) => {
    expect(parseDuration(text)).toBeUndefined();
  });
});

describe("formatDuration", () => {
  it.each([
    [0, "0s"],
    [500, "500ms"],
    [5000, "5s"],
    [90_000, "1m30s"],
    [3_723_000, "1h2m3s"],
    [3_600_000, "1h"],
  ])("%d ms → %s", (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
  });

  it("round-trips through parseDuration", () => {
    for (const ms of [1, 999, 1000, 61_000, 7_200_000, 5_025_000]) {
      expect(parseDuration(formatDuration(ms))).toBe(ms);
    }
  });
});
