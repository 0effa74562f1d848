import { setTimeout as sleep } from "node:timers/promises";
import { type BindingEvent, ComponentError } from "@outrig/core";
import { describe, expect, it } from "vitest";
import { createCronBinding, cronBindingDefinition, manifest, parseSchedule } from "../src/index.ts";

const from = new Date("2026-03-04T10:20:30.500Z");
const nextRuns = (schedule: string, n: number): string[] => {
  const s = parseSchedule(`CRON_TZ=UTC ${schedule}`);
  const out: string[] = [];
  let at = from;
  for (let i = 0; i < n; i++) {
    at = s.next(at) as Date;
    out.push(at.toISOString());
  }
  return out;
};

describe("schedules", () => {
  it("reads an optional seconds field", () => {
    expect(nextRuns("*/15 * * * * *", 2)).toEqual([
      "2026-03-04T10:20:45.000Z",
      "2026-03-04T10:21:00.000Z",
    ]);
    expect(nextRuns("0 30 * * * *", 1)).toEqual(["2026-03-04T10:30:00.000Z"]);
    expect(nextRuns("30 * * * *", 1)).toEqual(["2026-03-04T10:30:00.000Z"]);
  });

  it("knows Dapr's descriptors", () => {
    expect(nextRuns("@hourly", 1)).toEqual(["2026-03-04T11:00:00.000Z"]);
    expect(nextRuns("@daily", 1)).toEqual(["2026-03-05T00:00:00.000Z"]);
    expect(nextRuns("@midnight", 1)).toEqual(["2026-03-05T00:00:00.000Z"]);
    expect(nextRuns("@weekly", 1)).toEqual(["2026-03-08T00:00:00.000Z"]);
    expect(nextRuns("@monthly", 1)).toEqual(["2026-04-01T00:00:00.000Z"]);
    expect(nextRuns("@yearly", 1)).toEqual(["2027-01-01T00:00:00.000Z"]);
    expect(nextRuns("@annually", 1)).toEqual(["2027-01-01T00:00:00.000Z"]);
  });

  it("@every is a constant delay in whole seconds, at least one", () => {
    expect(nextRuns("@every 1s", 2)).toEqual([
      "2026-03-04T10:20:31.500Z",
      "2026-03-04T10:20:32.500Z",
    ]);
    expect(nextRuns("@every 1h30m", 1)).toEqual(["2026-03-04T11:50:30.500Z"]);
    expect(nextRuns("@every 1500ms", 1)).toEqual(["2026-03-04T10:20:31.500Z"]);
    expect(nextRuns("@every 100ms", 1)).toEqual(["2026-03-04T10:20:31.500Z"]);
  });

  it("honours CRON_TZ", () => {
    const s = parseSchedule("CRON_TZ=Asia/Tokyo 0 0 9 * * *");
    expect(s.timeZone).toBe("Asia/Tokyo");
    expect(s.next(from)?.toISOString()).toBe("2026-03-05T00:00:00.000Z");
  });

  it("ORs day-of-month and day-of-week when both are restricted, as Vixie cron", () => {
    // 2026-03-04 is a Wednesday; the 5th is a Thursday, the 9th a Monday.
    expect(nextRuns("0 0 0 5 * MON", 2)).toEqual([
      "2026-03-05T00:00:00.000Z",
      "2026-03-09T00:00:00.000Z",
    ]);
  });

  it("rejects bad schedules and a non-input direction with ERR_CONFIG_INVALID naming the field", async () => {
    for (const schedule of [
      "",
      "bad",
      "* * * * * * *",
      "@every",
      "@every 5",
      "@every -1s",
      "@fortnightly",
      "CRON_TZ=Mars/Base * * * * *",
    ]) {
      const error = await createCronBinding({ schedule }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error, schedule).toBeInstanceOf(ComponentError);
      expect((error as ComponentError).code).toBe("ERR_CONFIG_INVALID");
      expect((error as ComponentError).message).toContain("schedule");
    }
    await expect(
      createCronBinding({ schedule: "@every 1s", direction: "output" }),
    ).rejects.toMatchObject({
      code: "ERR_CONFIG_INVALID",
    });
    await expect(
      createCronBinding({ schedule: "@every 1s", direction: "input" }),
    ).resolves.toBeDefined();
  });
});

describe("ticks", () => {
  it("a seconds schedule fires on whole seconds with Dapr's metadata and empty data", async () => {
    const binding = await createCronBinding({ schedule: "* * * * * *" });
    const events: { at: number; event: BindingEvent }[] = [];
    await binding.read(async (event) => {
      events.push({ at: Date.now(), event });
      return null;
    });
    await sleep(2_600);
    await binding.close();
    expect(events.length).toBeGreaterThanOrEqual(2);
    expect(events.length).toBeLessThanOrEqual(3);
    for (const { at, event } of events) {
      expect(at % 1000).toBeLessThan(300);
      expect(event.data.byteLength).toBe(0);
      expect(event.metadata.timeZone).toBeTypeOf("string");
      expect(Math.abs(Date.parse(event.metadata.readTimeUTC as string) - at)).toBeLessThan(100);
    }
  });

  it("skips a tick while the previous handler still runs, and keeps ticking after a failure", async () => {
    const binding = await createCronBinding({ schedule: "@every 1s" });
    let calls = 0;
    let concurrent = 0;
    let maxConcurrent = 0;
    await binding.read(async () => {
      calls++;
      concurrent++;
      maxConcurrent = Math.max(maxConcurrent, concurrent);
      try {
        if (calls === 1) await sleep(2_300);
        if (calls === 2) throw new Error("boom");
      } finally {
        concurrent--;
      }
    });
    await sleep(5_600);
    await binding.close();
    expect(maxConcurrent).toBe(1);
    // Ticks at 1..5 s: the first runs until 3.3 s, so 2 and 3 are skipped; 4 fails; 5 still comes.
    expect(calls).toBe(3);
  });

  it("two reads tick independently; aborting one leaves the other", async () => {
    const binding = await createCronBinding({ schedule: "@every 1s" });
    const controller = new AbortController();
    let a = 0;
    let b = 0;
    await binding.read(async () => {
      a++;
    }, controller.signal);
    await binding.read(async () => {
      b++;
    });
    await sleep(1_300);
    controller.abort();
    await sleep(1_000);
    await binding.close();
    expect(a).toBe(1);
    expect(b).toBe(2);
  });

  it("is in the manifest as an input binding", () => {
    expect(manifest.components).toEqual([cronBindingDefinition]);
    expect(cronBindingDefinition.directions).toEqual(["input"]);
  });
});
