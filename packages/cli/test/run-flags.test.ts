import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { CliProcess, tempHome } from "./helpers.ts";

const cleanups: (() => Promise<void>)[] = [];
const running: CliProcess[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((cli) => cli.stop()));
  await Promise.all(cleanups.splice(0).map((c) => c()));
});

interface Metadata {
  id: string;
  enabledFeatures: string[];
  extended: Record<string, string>;
  components: { name: string }[];
}

function memoryStore(name: string): string {
  return `apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata:\n  name: ${name}\nspec:\n  type: state.in-memory\n  version: v1\n`;
}

async function sidecar(args: string[]): Promise<{ cli: CliProcess; url: string }> {
  const { home, cleanup } = await tempHome();
  cleanups.push(cleanup);
  const resolved = args.map((arg) => arg.replaceAll("$HOME", home));
  for (const dir of ["a", "b"]) {
    await mkdir(join(home, dir), { recursive: true });
    await writeFile(join(home, dir, "store.yaml"), memoryStore(`from-${dir}`));
  }
  await writeFile(
    join(home, "config.yaml"),
    "apiVersion: dapr.io/v1alpha1\nkind: Configuration\nmetadata:\n  name: custom\nspec:\n  features:\n    - name: OutrigTestFeature\n      enabled: true\n",
  );
  const cli = new CliProcess(["run", ...resolved], { home });
  running.push(cli);
  const [, port] = await cli.waitFor(/HTTP Port: (\d+)/);
  await cli.waitFor(/You're up and running/);
  return { cli, url: `http://127.0.0.1:${port}` };
}

describe("outrig run flags reach the sidecar", () => {
  it("--max-body-size limits request bodies (413 above it)", async () => {
    const { url } = await sidecar(["--app-id", "small", "--max-body-size", "1Ki"]);
    const post = (bytes: number) =>
      fetch(`${url}/v1.0/state/statestore`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify([{ key: "k", value: "x".repeat(bytes) }]),
      });
    expect((await post(100)).status).toBe(204);
    expect((await post(2048)).status).toBe(413);
  });

  it("--config loads the Configuration (its features show in the metadata API)", async () => {
    const { url } = await sidecar(["--app-id", "configured", "--config", "$HOME/config.yaml"]);
    const metadata = (await (await fetch(`${url}/v1.0/metadata`)).json()) as Metadata;
    expect(metadata.id).toBe("configured");
    expect(metadata.enabledFeatures).toContain("OutrigTestFeature");
    expect(metadata.extended.cliPID).toMatch(/^\d+$/);
  });

  it("--resources-path replaces the defaults; -d (--components-path) adds to it", async () => {
    const { url } = await sidecar([
      "--app-id",
      "paths",
      "--resources-path",
      "$HOME/a",
      "-d",
      "$HOME/b",
    ]);
    const metadata = (await (await fetch(`${url}/v1.0/metadata`)).json()) as Metadata;
    const names = metadata.components.map((c) => c.name).sort();
    expect(names).toEqual(["from-a", "from-b"]);
    const save = await fetch(`${url}/v1.0/state/statestore`, { method: "POST", body: "[]" });
    expect(save.status).toBe(400);
  });

  it("--metrics-port serves daprd's metrics; --enable-metrics=false opens no port", async () => {
    const { createServer } = await import("node:net");
    const port = await new Promise<number>((resolvePort) => {
      const server = createServer().listen(0, "127.0.0.1", () => {
        const address = server.address();
        server.close(() => resolvePort(typeof address === "object" && address ? address.port : 0));
      });
    });
    const { url } = await sidecar(["--app-id", "metered", "--metrics-port", String(port)]);
    expect((await fetch(`${url}/v1.0/state/statestore/k`)).status).toBe(204);
    const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    expect(text).toMatch(
      /dapr_http_server_request_count\{app_id="metered",method="GET",path="\/v1\.0\/state\/:store\/:key"\} 1/,
    );
    const off = await sidecar([
      "--app-id",
      "unmetered",
      "--metrics-port",
      String(port + 1),
      "--enable-metrics=false",
    ]);
    expect((await fetch(`${off.url}/v1.0/healthz`)).status).toBe(204);
    await expect(fetch(`http://127.0.0.1:${port + 1}/metrics`)).rejects.toThrow();
  });

  it("--log-level warn hides the sidecar's info lines", async () => {
    const { cli } = await sidecar(["--app-id", "quiet", "--log-level", "warn"]);
    expect(cli.output).toContain("You're up and running");
    expect(cli.output).not.toContain("level=info");
  });

  it("POST /v1.0/shutdown stops outrig with exit code 0", async () => {
    const { cli, url } = await sidecar(["--app-id", "shutdown"]);
    const response = await fetch(`${url}/v1.0/shutdown`, { method: "POST" });
    expect(response.status).toBe(204);
    expect(await cli.exited, cli.output).toBe(0);
    expect(cli.output).toContain("Sidecar shutdown shut down");
  });
});
