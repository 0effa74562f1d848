import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { waitUntil } from "@outrig/conformance/testing";
import { type BrowserContext, chromium, type Page } from "playwright-core";
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
    // One run file: its apps share the in-memory broker, so orders' publish reaches shipping.
    await writeFile(
      join(project, "outrig.yaml"),
      `version: 1
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
