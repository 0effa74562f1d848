import { mkdtempSync, rmSync } from "node:fs";
import type { ServerResponse } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Sidecar } from "../src/index.ts";
import { fakeApp, type Received, sidecar, until } from "./helpers.ts";
import { sidecarProcess } from "./sidecar-process.ts";

interface Trigger extends Received {
  at: number;
}

/** An app that records job triggers with their arrival time; `reply` picks the status. */
async function jobApp(reply: (t: Trigger) => number = () => 200) {
  const triggers: Trigger[] = [];
  const app = await fakeApp((r, res: ServerResponse) => {
    const t = { ...r, at: Date.now() };
    if (r.url.startsWith("/job/")) triggers.push(t);
    res.writeHead(r.url.startsWith("/job/") ? reply(t) : 404);
    res.end();
  });
  return {
    ...app,
    triggers,
    of: (name: string) => triggers.filter((t) => t.url === `/job/${name}`),
  };
}

const dir = mkdtempSync(join(tmpdir(), "outrig-jobs-"));
const store = join(dir, "scheduler.db");

async function post(s: Sidecar, name: string, body: unknown, version = "v1.0-alpha1") {
  return fetch(`${s.url}/${version}/jobs/${name}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
}

afterAll(() => rmSync(dir, { recursive: true, force: true }));

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("Jobs API over HTTP (SQLite scheduler store)", () => {
  let app: Awaited<ReturnType<typeof jobApp>>;
  let s: Sidecar;
  let failures = 0;
  beforeAll(async () => {
    app = await jobApp((t) => {
      if (t.url === "/job/flaky" && failures < 2) {
        failures++;
        return 500;
      }
      if (t.url === "/job/always-fails" || t.url === "/job/dropped") return 500;
      return 200;
    });
    s = await sidecar({
      appId: "jobs-http",
      appPort: app.port,
      schedulerStore: store,
      grpcPort: 0,
    });
    await s.ready();
  });
  afterAll(async () => {
    await s.stop();
    await app.close();
  });

  it("a one-shot job with an RFC 3339 dueTime fires once, never early, with its data, then is gone", async () => {
    const due = new Date(Date.now() + 1200);
    const r = await post(s, "once", { dueTime: due.toISOString(), data: { order: 7 } });
    expect(r.status).toBe(204);
    const got = await fetch(`${s.url}/v1.0-alpha1/jobs/once`);
    expect(got.status).toBe(200);
    expect(await got.json()).toEqual({
      name: "once",
      dueTime: due.toISOString(),
      data: { order: 7 },
    });
    const [t] = await until(() => (app.of("once").length > 0 ? app.of("once") : undefined), 5000);
    expect(t?.at).toBeGreaterThanOrEqual(due.getTime());
    expect(t?.method).toBe("POST");
    expect(t?.headers["content-type"]).toBe("application/json");
    expect(JSON.parse(t?.body ?? "")).toEqual({ order: 7 });
    await sleep(300);
    expect(app.of("once")).toHaveLength(1);
    const gone = await fetch(`${s.url}/v1.0-alpha1/jobs/once`);
    expect(gone.status).toBe(404);
    expect(((await gone.json()) as { errorCode: string }).errorCode).toBe("DAPR_SCHEDULER_GET_JOB");
  });

  it("a Go-duration dueTime on the stable /v1.0 route fires after it", async () => {
    const before = Date.now();
    expect((await post(s, "go-duration", { dueTime: "800ms", data: "x" }, "v1.0")).status).toBe(
      204,
    );
    const [t] = await until(() =>
      app.of("go-duration").length ? app.of("go-duration") : undefined,
    );
    expect(t?.at).toBeGreaterThanOrEqual(before + 800);
    expect(t?.body).toBe('"x"');
  });

  it("a repeating job with repeats: 3 fires exactly three times, each at or after its tick", async () => {
    const start = Date.now();
    expect((await post(s, "thrice", { schedule: "@every 500ms", repeats: 3 })).status).toBe(204);
    await until(() => app.of("thrice").length >= 3 || undefined, 6000);
    await sleep(1200);
    const times = app.of("thrice").map((t) => t.at);
    expect(times).toHaveLength(3);
    times.forEach((at, i) => {
      expect(at).toBeGreaterThanOrEqual(start + 500 * (i + 1));
    });
    expect((await fetch(`${s.url}/v1.0-alpha1/jobs/thrice`)).status).toBe(404);
  });

  it("a 6-field cron job fires on second boundaries, never before them", async () => {
    expect((await post(s, "cron", { schedule: "* * * * * *", repeats: 2 })).status).toBe(204);
    await until(() => app.of("cron").length >= 2 || undefined, 6000);
    const [a, b] = app.of("cron").map((t) => t.at) as [number, number];
    // Each tick is due on a whole second; the arrival is in that second or later, and the two
    // ticks are distinct seconds.
    expect(Math.floor(b / 1000)).toBeGreaterThan(Math.floor(a / 1000));
    expect(b - a).toBeGreaterThanOrEqual(0);
  });

  it("a descriptor schedule is read and shown back", async () => {
    expect((await post(s, "nightly", { schedule: "@daily", data: [1, 2] })).status).toBe(204);
    const got = (await (await fetch(`${s.url}/v1.0/jobs/nightly`)).json()) as Record<
      string,
      unknown
    >;
    expect(got).toEqual({ name: "nightly", schedule: "@daily", data: [1, 2] });
    expect((await fetch(`${s.url}/v1.0/jobs/nightly`, { method: "DELETE" })).status).toBe(204);
    expect((await fetch(`${s.url}/v1.0/jobs/nightly`)).status).toBe(404);
  });

  it("an existing name is 409 unless overwrite is set; overwrite replaces the job", async () => {
    expect((await post(s, "dup", { schedule: "@hourly", data: 1 })).status).toBe(204);
    const again = await post(s, "dup", { schedule: "@hourly", data: 2 });
    expect(again.status).toBe(409);
    expect(((await again.json()) as { errorCode: string }).errorCode).toBe(
      "DAPR_SCHEDULER_SCHEDULE_JOB",
    );
    expect((await post(s, "dup", { schedule: "@daily", data: 3, overwrite: true })).status).toBe(
      204,
    );
    const got = (await (await fetch(`${s.url}/v1.0-alpha1/jobs/dup`)).json()) as {
      schedule: string;
      data: number;
    };
    expect(got).toMatchObject({ schedule: "@daily", data: 3 });
    await fetch(`${s.url}/v1.0-alpha1/jobs/dup`, { method: "DELETE" });
  });

  it("a failed trigger is retried by the constant failure policy until the app takes it", async () => {
    const r = await post(s, "flaky", {
      dueTime: "0s",
      failurePolicy: { constant: { interval: "200ms", maxRetries: 5 } },
    });
    expect(r.status).toBe(204);
    await until(() => app.of("flaky").length >= 3 || undefined, 5000);
    await sleep(600);
    const times = app.of("flaky").map((t) => t.at);
    expect(times).toHaveLength(3); // two failures, then success
    expect((times[1] as number) - (times[0] as number)).toBeGreaterThanOrEqual(200);
    expect((await fetch(`${s.url}/v1.0-alpha1/jobs/flaky`)).status).toBe(404);
  });

  it("maxRetries bounds the retries; the drop policy does not retry", async () => {
    await post(s, "always-fails", {
      dueTime: "0s",
      failurePolicy: { constant: { interval: "100ms", maxRetries: 2 } },
    });
    await post(s, "dropped", { dueTime: "0s", failurePolicy: { drop: {} } });
    await until(() => app.of("always-fails").length >= 3 || undefined, 5000);
    await sleep(500);
    expect(app.of("always-fails")).toHaveLength(3); // the try and two retries
    expect(app.of("dropped")).toHaveLength(1);
    expect((await fetch(`${s.url}/v1.0-alpha1/jobs/always-fails`)).status).toBe(404);
  });

  it("bad input is refused with Dapr's errors, naming what is wrong, and nothing is stored", async () => {
    const cases: [string, unknown, number, string, string][] = [
      ["bad-cron", { schedule: "* * * *" }, 400, "DAPR_SCHEDULER_SCHEDULE_JOB", "schedule"],
      ["bad-cron2", { schedule: "61 * * * * *" }, 400, "DAPR_SCHEDULER_SCHEDULE_JOB", "schedule"],
      ["bad-every", { schedule: "@every soon" }, 400, "DAPR_SCHEDULER_SCHEDULE_JOB", "@every"],
      ["bad-due", { dueTime: "tomorrow" }, 400, "DAPR_SCHEDULER_SCHEDULE_JOB", "dueTime"],
      ["bad-due2", { dueTime: "10" }, 400, "DAPR_SCHEDULER_SCHEDULE_JOB", "dueTime"],
      ["bad-ttl", { schedule: "@daily", ttl: "x" }, 400, "DAPR_SCHEDULER_SCHEDULE_JOB", "ttl"],
      ["no-schedule", { data: 1 }, 400, "DAPR_SCHEDULER_SCHEDULE_EMPTY", "schedule"],
      ["in-body", { name: "x", dueTime: "1s" }, 400, "DAPR_SCHEDULER_JOB_NAME", "url"],
      ["unknown", { dueTime: "1s", period: "1s" }, 400, "ERR_MALFORMED_REQUEST", "period"],
      ["repeats", { dueTime: "1s", repeats: "many" }, 400, "ERR_MALFORMED_REQUEST", "repeats"],
      [
        "policy",
        { dueTime: "1s", failurePolicy: { linear: {} } },
        400,
        "ERR_MALFORMED_REQUEST",
        "failurePolicy",
      ],
      ["a|b", { dueTime: "1s" }, 400, "DAPR_SCHEDULER_JOB_NAME_EMPTY", "|"],
    ];
    for (const [name, body, status, code, mention] of cases) {
      const r = await post(s, encodeURIComponent(name), body);
      const answer = (await r.json()) as { errorCode: string; message: string };
      expect({ name, status: r.status, code: answer.errorCode }).toEqual({ name, status, code });
      expect(answer.message).toContain(mention);
      expect(
        (await fetch(`${s.url}/v1.0-alpha1/jobs/${encodeURIComponent(name)}`)).status,
      ).not.toBe(200);
    }
    const notJson = await fetch(`${s.url}/v1.0-alpha1/jobs/nj`, { method: "POST", body: "{" });
    expect(notJson.status).toBe(400);
  });
});

describe("two sidecars of one app on one store", () => {
  it("each tick fires on exactly one of them", async () => {
    const apps = [await jobApp(), await jobApp()];
    const shared = join(dir, "shared.db");
    const sidecars = await Promise.all(
      apps.map((a) =>
        sidecar({ appId: "jobs-pair", appPort: a.port, schedulerStore: shared, grpcPort: 0 }),
      ),
    );
    try {
      await Promise.all(sidecars.map((x) => x.ready()));
      const first = sidecars[0] as Sidecar;
      for (let i = 0; i < 10; i++) {
        expect((await post(first, `one-${i}`, { dueTime: "300ms" })).status).toBe(204);
      }
      expect((await post(first, "every", { schedule: "@every 300ms", repeats: 6 })).status).toBe(
        204,
      );
      const all = () => apps.flatMap((a) => a.triggers);
      await until(() => all().length >= 16 || undefined, 8000);
      await sleep(1000);
      const names = all()
        .map((t) => t.url)
        .sort();
      expect(names.filter((n) => n === "/job/every")).toHaveLength(6);
      for (let i = 0; i < 10; i++)
        expect(names.filter((n) => n === `/job/one-${i}`)).toHaveLength(1);
      expect(names).toHaveLength(16);
    } finally {
      await Promise.all(sidecars.map((x) => x.stop()));
      await Promise.all(apps.map((a) => a.close()));
    }
  });
});

describe("a sidecar process SIGKILLed and restarted", () => {
  it("keeps its jobs: they fire after the restart, once, never early", async () => {
    const app = await jobApp();
    const env = {
      JOBS_APP_ID: "jobs-kill",
      JOBS_APP_PORT: String(app.port),
      JOBS_STORE: join(dir, "killed.db"),
    };
    const first = await sidecarProcess(env);
    try {
      const due = Date.now() + 2500;
      const r = await fetch(`${first.url}/v1.0-alpha1/jobs/survivor`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ dueTime: new Date(due).toISOString(), data: { kept: true } }),
      });
      expect(r.status).toBe(204);
      await fetch(`${first.url}/v1.0-alpha1/jobs/ticker`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ schedule: "@every 1s", repeats: 2, dueTime: "2500ms" }),
      });
      await first.kill();
      await sleep(Math.max(0, due - Date.now()) + 300);
      expect(app.triggers).toHaveLength(0); // nobody was there to fire it
      const second = await sidecarProcess(env);
      try {
        await until(() => app.of("survivor").length > 0 || undefined, 15_000);
        await until(() => app.of("ticker").length >= 2 || undefined, 15_000);
        await sleep(1200);
        expect(app.of("survivor")).toHaveLength(1);
        expect(app.of("survivor")[0]?.at).toBeGreaterThanOrEqual(due);
        expect(JSON.parse(app.of("survivor")[0]?.body ?? "")).toEqual({ kept: true });
        expect(app.of("ticker")).toHaveLength(2);
      } finally {
        await second.kill();
      }
    } finally {
      await app.close();
    }
  }, 120_000);
});
