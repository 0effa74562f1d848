// Actor reminders are durable: registered, the sidecar process SIGKILLed and restarted, they
// reactivate their actor and fire, once each tick, never early.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { waitUntil } from "@outrig/conformance/testing";
import { expect, it } from "vitest";
import { fakeApp } from "./helpers.ts";
import { sidecarProcess } from "./sidecar-process.ts";

it("a reminder survives a SIGKILL of its sidecar and fires after the restart", async () => {
  const dir = await mkdtemp(join(tmpdir(), "outrig-actors-restart-"));
  const fired: { url: string; at: number; body: string }[] = [];
  const app = await fakeApp(
    (r, res) => {
      if (r.method === "GET" && r.url === "/dapr/config") {
        res.writeHead(200, { "content-type": "application/json" });
        res.end(JSON.stringify({ entities: ["Alarm"] }));
        return;
      }
      if (r.url.includes("/method/remind/"))
        fired.push({ url: r.url, at: Date.now(), body: r.body });
      res.writeHead(200);
      res.end();
    },
    { actors: true },
  );
  const env = {
    JOBS_APP_ID: "alarms",
    JOBS_APP_PORT: String(app.port),
    JOBS_STORE: join(dir, "scheduler.db"),
  };
  try {
    const first = await sidecarProcess(env);
    const due = Date.now() + 2500;
    const register = (name: string, body: unknown) =>
      fetch(`${first.url}/v1.0/actors/Alarm/a1/reminders/${name}`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(body),
      });
    expect(
      (await register("once", { dueTime: new Date(due).toISOString(), data: { kept: true } }))
        .status,
    ).toBe(204);
    expect((await register("twice", { dueTime: "2500ms", period: "R2/1s" })).status).toBe(204);
    await first.kill();
    await sleep(Math.max(0, due - Date.now()) + 300);
    expect(fired).toHaveLength(0); // nobody was there to fire them
    const second = await sidecarProcess(env);
    try {
      const of = (name: string) =>
        fired.filter((f) => f.url === `/actors/Alarm/a1/method/remind/${name}`);
      await waitUntil(() => of("once").length > 0 && of("twice").length >= 2, 15_000, "both fired");
      await sleep(1200);
      expect(of("once")).toHaveLength(1);
      expect(of("once")[0]?.at).toBeGreaterThanOrEqual(due);
      expect(JSON.parse(of("once")[0]?.body ?? "")).toEqual({
        data: { kept: true },
        dueTime: new Date(due).toISOString(),
        period: "",
      });
      expect(of("twice")).toHaveLength(2);
    } finally {
      await second.kill();
    }
  } finally {
    await app.close();
    await rm(dir, { recursive: true, force: true });
  }
}, 120_000);
