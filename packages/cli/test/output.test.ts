import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { afterEach, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { LogOutput } from "../src/log-output.ts";
import { runCli, tempHome } from "./helpers.ts";

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  await Promise.all(cleanups.splice(0).map((c) => c()));
});

function fakeConsole(): { stream: NodeJS.WriteStream; text(): string } {
  const stream = new PassThrough();
  let text = "";
  stream.on("data", (chunk: Buffer) => {
    text += chunk.toString();
  });
  return { stream: stream as unknown as NodeJS.WriteStream, text: () => text };
}

describe("prefixed log output", () => {
  it("writes whole lines only, prefixed on the console and plain in the file", async () => {
    const { home, cleanup } = await tempHome();
    cleanups.push(cleanup);
    const console = fakeConsole();
    const file = join(home, "logs", "app.log");
    const output = new LogOutput({
      prefix: "== APP ==",
      colour: "green",
      destination: "fileAndConsole",
      filePath: file,
      console: console.stream,
    });
    output.push("first li");
    expect(console.text()).toBe("");
    output.push(Buffer.from("ne\r\nsecond line\nthird, unfinished"));
    expect(console.text()).toBe("== APP == first line\n== APP == second line\n");
    await output.end();
    expect(console.text()).toBe(
      "== APP == first line\n== APP == second line\n== APP == third, unfinished\n",
    );
    expect(await readFile(file, "utf8")).toBe("first line\nsecond line\nthird, unfinished\n");
  });

  it("writes nothing to the console for destination file", async () => {
    const { home, cleanup } = await tempHome();
    cleanups.push(cleanup);
    const console = fakeConsole();
    const file = join(home, "only-file.log");
    const output = new LogOutput({
      prefix: "== OUTRIG ==",
      colour: "cyan",
      destination: "file",
      filePath: file,
      console: console.stream,
    });
    output.line("hello");
    await output.end();
    expect(console.text()).toBe("");
    expect(await readFile(file, "utf8")).toBe("hello\n");
  });
});

describe("outrig list", () => {
  it("prints the registry as a table, JSON (dapr's keys) and YAML", async () => {
    const { home, cleanup } = await tempHome();
    cleanups.push(cleanup);
    await mkdir(join(home, "apps"), { recursive: true });
    // The test runner itself plays the owning outrig process, so the entry counts as live.
    await writeFile(
      join(home, "apps", "orders.json"),
      JSON.stringify({
        appId: "orders",
        httpPort: 3501,
        grpcPort: 50002,
        appPort: 3001,
        appHost: "127.0.0.1",
        cliPid: process.pid,
        appPid: 4242,
        command: ["node", "orders.js"],
        startedAt: new Date(Date.now() - 125_000).toISOString(),
      }),
    );

    const json = await runCli(["list", "-o", "json"], { home });
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout)).toEqual([
      expect.objectContaining({
        appId: "orders",
        httpPort: 3501,
        grpcPort: 50002,
        appPort: 3001,
        command: "node orders.js",
        age: "2m",
        daprdPid: process.pid,
        cliPid: process.pid,
        appPid: 4242,
      }),
    ]);

    const yaml = await runCli(["list", "--output", "yaml"], { home });
    expect(parse(yaml.stdout)).toEqual(JSON.parse(json.stdout));

    const table = await runCli(["list"], { home });
    const [header, row] = table.stdout.trimEnd().split("\n");
    expect(header?.split(/ {2,}/)).toEqual([
      "APP ID",
      "HTTP PORT",
      "GRPC PORT",
      "APP PORT",
      "COMMAND",
      "AGE",
      "CREATED",
      "CLI PID",
      "APP PID",
    ]);
    expect(row?.split(/ {2,}/).slice(0, 6)).toEqual([
      "orders",
      "3501",
      "50002",
      "3001",
      "node orders.js",
      "2m",
    ]);

    const bad = await runCli(["list", "-o", "xml"], { home });
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain("-o, --output");
  });
});
