import { randomBytes } from "node:crypto";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { waitUntil } from "@outrig/conformance/testing";
import { type BrowserContext, chromium, type Page } from "playwright-core";
import { PNG } from "pngjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AppRegistry } from "../src/index.ts";
import { CliProcess, runCli, tempHome } from "./helpers.ts";

// Debian's chromium (conformance/scripts/services-up.sh installs it): a missing browser fails.
const CHROMIUM = "/usr/bin/chromium";
const fixtures = fileURLToPath(new URL("./fixtures/", import.meta.url));

function freePort(): Promise<number> {
  return new Promise((resolvePort) => {
    const server = createServer().listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => resolvePort(typeof address === "object" && address ? address.port : 0));
    });
  });
}

interface Listed {
  appId: string;
  httpPort: number;
}

describe("outrig dashboard, in headless Chromium", { timeout: 60_000 }, () => {
  let home: string;
  let cleanupHome: () => Promise<void>;
  let apps: CliProcess;
  let dashboard: CliProcess;
  let url: string;
  let browser: BrowserContext;
  let profile: string;
  let page: Page;
  const ports = new Map<string, number>();

  beforeAll(async () => {
    ({ home, cleanup: cleanupHome } = await tempHome());
    const project = join(home, "project");
    for (const dir of ["orders", "shipping", "billing"]) {
      await mkdir(join(project, dir), { recursive: true });
    }
    const chain = (role: string) =>
      JSON.stringify([process.execPath, join(fixtures, "chain-app.mjs"), role]);
    // Every request traced (the span buffer keeps sampled spans only).
    await writeFile(
      join(project, "tracing.yaml"),
      `apiVersion: dapr.io/v1alpha1
kind: Configuration
metadata:
  name: tracing
spec:
  tracing:
    samplingRate: "1"
`,
    );
    // One run file: its apps share the in-memory broker, so orders' publish reaches shipping.
    await writeFile(
      join(project, "outrig.yaml"),
      `version: 1
common:
  configFilePath: ./tracing.yaml
apps:
  - appID: orders
    appDirPath: ./orders
  - appID: shipping
    appDirPath: ./shipping
    appPort: ${await freePort()}
    command: ${chain("shipping")}
  - appID: billing
    appDirPath: ./billing
    appPort: ${await freePort()}
    command: ${chain("billing")}
`,
    );
    apps = new CliProcess(["run", "-f", join(project, "outrig.yaml")], { home, cwd: project });
    // Generous: three sidecars start in one process, slowly on a loaded machine.
    await apps.waitFor(/shipping ready/, 60_000);
    await apps.waitFor(/billing ready/, 60_000);
    await waitUntil(
      async () => {
        const listed = JSON.parse(
          (await runCli(["list", "-o", "json"], { home })).stdout,
        ) as Listed[];
        for (const app of listed) if (app.httpPort) ports.set(app.appId, app.httpPort);
        return ports.size === 3;
      },
      20_000,
      () => `three apps in outrig list; have ${[...ports.keys()].join(", ")}\n${apps.output}`,
      200,
    );

    dashboard = new CliProcess(["dashboard", "--port", "0", "--address", "127.0.0.1"], { home });
    url = (await dashboard.waitFor(/dashboard running on (http:\/\/\S+)/, 30_000))[1] as string;

    profile = await mkdtemp(join(tmpdir(), "outrig-chromium-"));
    browser = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: [
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
      ],
      viewport: { width: 1400, height: 1000 },
    });
    page = await browser.newPage();
    await page.goto(url);
  }, 150_000);

  afterAll(async () => {
    await browser?.close();
    await Promise.all([dashboard?.stop(), apps?.stop()]);
    if (profile) await rm(profile, { recursive: true, force: true });
    await cleanupHome?.();
  });

  /** An attribute of the first element `selector` finds, or null when there is none (no wait). */
  async function attribute(selector: string, name: string): Promise<string | null> {
    const found = page.locator(selector);
    return (await found.count()) > 0 ? found.first().getAttribute(name) : null;
  }

  async function pageUntil(
    what: string,
    check: () => Promise<boolean>,
    timeoutMs = 15_000,
  ): Promise<void> {
    await waitUntil(check, timeoutMs, what, 100);
  }

  it("lists the running apps, their components with capabilities, and subscriptions", async () => {
    await pageUntil("three app cards with ready sidecars", async () => {
      const ids = ["orders", "shipping", "billing"];
      const states = await Promise.all(
        ids.map((id) => attribute(`article.app[data-app-id="${id}"]`, "data-sidecar")),
      );
      return states.every((s) => s === "ready");
    });
    for (const id of ["orders", "shipping", "billing"]) {
      const card = page.locator(`article.app[data-app-id="${id}"]`);
      await expect(card.locator("h2").textContent()).resolves.toContain(id);
      const statestore = card.locator('tr[data-component="statestore"] td');
      expect(await statestore.allTextContents()).toEqual([
        "statestore",
        "state.sqlite",
        "v1",
        "loaded",
        expect.stringContaining("TRANSACTIONAL"),
      ]);
      const pubsub = await card.locator('tr[data-component="pubsub"] td').allTextContents();
      expect(pubsub.slice(0, 2)).toEqual(["pubsub", "pubsub.in-memory"]);
      expect(pubsub[4]).toContain("BULK_PUBSUB");
    }
    await pageUntil(
      "shipping's subscription to pubsub/orders",
      async () =>
        (await page
          .locator('article[data-app-id="shipping"] tr[data-subscription="pubsub/orders"]')
          .count()) > 0,
    );
    expect(
      await page
        .locator('article[data-app-id="shipping"] tr[data-subscription="pubsub/orders"] td')
        .allTextContents(),
    ).toEqual(["pubsub", "orders", "/orders", "—", "PROGRAMMATIC"]);
    expect(await page.locator('article[data-app-id="orders"] tr[data-subscription]').count()).toBe(
      0,
    );
  });

  it("draws request and message rates that move with traffic", async () => {
    const rate = (app: string, chart: string) =>
      page
        .locator(`article[data-app-id="${app}"] [data-chart="${chart}"] figure`)
        .getAttribute("data-rate")
        .then(Number);
    // An idle app: the dashboard's own polling is not counted as requests.
    await pageUntil("rate charts with a point", async () =>
      Boolean(
        await attribute('article[data-app-id="orders"] [data-chart="requests"] polyline', "points"),
      ),
    );
    expect(await rate("orders", "requests")).toBe(0);
    const before = await page
      .locator('article[data-app-id="shipping"] [data-chart="messages"] polyline[data-series="in"]')
      .getAttribute("points");

    let publishing = true;
    const traffic = (async () => {
      for (let n = 0; publishing; n++) {
        const res = await fetch(
          `http://127.0.0.1:${ports.get("orders")}/v1.0/publish/pubsub/orders`,
          {
            method: "POST",
            headers: { "content-type": "application/json" },
            body: JSON.stringify({ orderId: n }),
          },
        );
        expect(res.status).toBe(204);
        await new Promise((r) => setTimeout(r, 50));
      }
    })();
    try {
      await waitUntil(
        async () =>
          (await rate("orders", "requests")) > 0 && (await rate("shipping", "messages")) > 0,
        15_000,
        "orders' request rate and shipping's incoming message rate above 0",
        100,
      );
    } finally {
      publishing = false;
      await traffic;
    }
    const after = await page
      .locator('article[data-app-id="shipping"] [data-chart="messages"] polyline[data-series="in"]')
      .getAttribute("points");
    expect(after).not.toBe(before);
    // orders published: its outgoing messages chart moved too.
    expect(
      await page
        .locator('article[data-app-id="orders"] [data-chart="messages"] figcaption')
        .textContent(),
    ).toMatch(/out [1-9]/);
  });

  it("draws the trace of a publish → deliver → invoke chain as a nested timeline", async () => {
    // The test is the chain's caller: its traceparent names the trace to look for.
    const traceId = randomBytes(16).toString("hex");
    const res = await fetch(`http://127.0.0.1:${ports.get("orders")}/v1.0/publish/pubsub/orders`, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        traceparent: `00-${traceId}-${randomBytes(8).toString("hex")}-01`,
      },
      body: JSON.stringify({ orderId: "traced" }),
    });
    expect(res.status).toBe(204);
    const trace = page.locator(`.trace[data-trace-id="${traceId}"]`);
    const bars = trace.locator("rect.bar");
    const read = () =>
      bars.evaluateAll((rects) =>
        rects.map((r) => ({
          spanId: r.getAttribute("data-span-id") ?? "",
          parentSpanId: r.getAttribute("data-parent-span-id") ?? "",
          depth: Number(r.getAttribute("data-depth")),
          appId: r.getAttribute("data-app-id") ?? "",
          name: r.getAttribute("data-name") ?? "",
          fill: r.getAttribute("data-fill") ?? "",
        })),
      );
    let rows: Awaited<ReturnType<typeof read>> = [];
    await pageUntil(
      "the trace drawn with the publish on orders and the delivery and invocation on shipping",
      async () => {
        rows = await read();
        return (
          rows.some((r) => r.appId === "orders" && r.name.includes("publish")) &&
          rows.some((r) => r.appId === "shipping" && r.name === "CallLocal/billing/bill") &&
          Math.max(...rows.map((r) => r.depth)) >= 2
        );
      },
      20_000,
    );
    // Nested by parent: each span's row comes after its parent's, one level deeper.
    rows.forEach((row, i) => {
      const parent = rows.findIndex((r) => r.spanId === row.parentSpanId);
      if (parent < 0) expect(row.depth, JSON.stringify(row)).toBe(0);
      else {
        expect(parent).toBeLessThan(i);
        expect(row.depth).toBe((rows[parent]?.depth ?? 0) + 1);
      }
    });
    // One colour per app.
    const fills = (app: string) => new Set(rows.filter((r) => r.appId === app).map((r) => r.fill));
    expect(fills("orders").size).toBe(1);
    expect(fills("shipping").size).toBe(1);
    expect([...fills("orders")][0]).not.toBe([...fills("shipping")][0]);

    // Offset by start: a child's bar never starts left of its parent's.
    const svg = trace.locator("svg");
    const svgBox = await svg.boundingBox();
    const boxes = await Promise.all(rows.map((_, i) => bars.nth(i).boundingBox()));
    rows.forEach((row, i) => {
      const parent = rows.findIndex((r) => r.spanId === row.parentSpanId);
      if (parent >= 0) expect(boxes[i]?.x).toBeGreaterThanOrEqual((boxes[parent]?.x ?? 0) - 1);
    });

    // And drawn: in a screenshot of the timeline, each bar's middle is its app's colour, and
    // the space just right of its end (within the chart) is not.
    const png = PNG.sync.read(await svg.screenshot());
    const pixel = (x: number, y: number) => {
      const at = (Math.round(y) * png.width + Math.round(x)) * 4;
      return [png.data[at], png.data[at + 1], png.data[at + 2]] as number[];
    };
    const rgb = (hex: string) => [1, 3, 5].map((i) => Number.parseInt(hex.slice(i, i + 2), 16));
    const close = (a: number[], b: number[]) => a.every((v, i) => Math.abs(v - (b[i] ?? 0)) <= 8);
    rows.forEach((row, i) => {
      const box = boxes[i];
      if (!box || !svgBox) throw new Error(`no box for bar ${i}`);
      const x = box.x - svgBox.x;
      const y = box.y - svgBox.y + box.height / 2;
      expect(pixel(x + box.width / 2, y), `bar ${i} (${row.appId} ${row.name})`).toSatisfy(
        (p: number[]) => close(p, rgb(row.fill)),
      );
      const after = x + box.width + 4;
      if (after < png.width - 1) {
        expect(pixel(after, y), `right of bar ${i}`).toSatisfy(
          (p: number[]) => !close(p, rgb(row.fill)),
        );
      }
    });
  });

  it("shows a sidecar that does not answer as unreachable, and the others still", async () => {
    // Accepts connections and never answers: the dashboard's timeout is what ends each call.
    const sockets: Socket[] = [];
    const silent = createServer((socket) => sockets.push(socket));
    await new Promise<void>((r) => silent.listen(0, "127.0.0.1", r));
    const port = (silent.address() as { port: number }).port;
    const registry = new AppRegistry(join(home, "apps"));
    await registry.write({
      appId: "silent",
      httpPort: port,
      grpcPort: port,
      metricsPort: port,
      appHost: "127.0.0.1",
      cliPid: process.pid,
      command: [],
      startedAt: new Date().toISOString(),
    });
    try {
      await pageUntil(
        "the silent app shown as unreachable",
        async () =>
          (await attribute('article[data-app-id="silent"]', "data-sidecar")) === "unreachable",
      );
      expect(
        await page.locator('article[data-app-id="silent"] .errors li').first().textContent(),
      ).toMatch(/no answer within \d+ ms/);
      expect(await page.locator('article[data-app-id="orders"]').getAttribute("data-sidecar")).toBe(
        "ready",
      );
    } finally {
      await registry.unregister("silent");
      for (const socket of sockets) socket.destroy();
      await new Promise((r) => silent.close(r));
    }
  });
});

describe("outrig dashboard flags", () => {
  it("refuses dapr dashboard's Kubernetes flags and a bad address by name", async () => {
    const { home, cleanup } = await tempHome();
    try {
      for (const [args, message] of [
        [["-k"], "--kubernetes: not supported"],
        [["--namespace", "dapr-system"], "--namespace: not supported"],
        [
          ["--address", "example.com"],
          '--address: "example.com" is not an IP address or localhost',
        ],
        [["--port", "70000"], "Must be a port number"],
      ] as const) {
        const result = await runCli(["dashboard", ...args], { home });
        expect(result.code, result.stderr).toBe(1);
        expect(result.stdout + result.stderr).toContain(message);
      }
    } finally {
      await cleanup();
    }
  });
});
