/**
 * "Install only what you use": every published package is built and packed the way it would be
 * published, the tarballs are installed with npm into empty projects outside the workspace, and
 * small scripts use them there — the in-memory store alone, and the Redis store against the test
 * Redis. Slow (a build and npm installs), so it runs once, as one file.
 */
import { execFileSync, spawn } from "node:child_process";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, relative, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RedisService, startRedis } from "../src/services/index.ts";

const repoRoot = resolve(import.meta.dirname, "../..");
const scratch = mkdtempSync(join(tmpdir(), "outrig-pack-"));
const tarballs = new Map<string, string>();

interface PackageJson {
  name: string;
  private?: boolean;
}

function publishedPackages(): { name: string; dir: string }[] {
  const dirs = [
    ...readdirSync(join(repoRoot, "packages")).map((d) => join(repoRoot, "packages", d)),
    join(repoRoot, "conformance"),
  ];
  return dirs.flatMap((dir) => {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as PackageJson;
      return pkg.private ? [] : [{ name: pkg.name, dir }];
    } catch {
      return [];
    }
  });
}

function run(command: string, args: string[], cwd: string): string {
  return execFileSync(command, args, { cwd, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
}

/** An empty npm project outside the workspace with only these tarballs installed. */
function projectWith(names: string[]): string {
  const dir = mkdtempSync(join(scratch, "project-"));
  writeFileSync(
    join(dir, "package.json"),
    JSON.stringify({ name: "consumer", private: true, type: "module" }),
  );
  const files = names.map((n) => {
    const file = tarballs.get(n);
    if (!file) throw new Error(`no tarball for ${n}`);
    return file;
  });
  run("npm", ["install", "--no-audit", "--no-fund", "--loglevel=error", ...files], dir);
  return dir;
}

function node(dir: string, script: string, env: Record<string, string> = {}): string {
  writeFileSync(join(dir, "main.mjs"), script);
  return execFileSync(process.execPath, ["main.mjs"], {
    cwd: dir,
    encoding: "utf8",
    env: { ...process.env, ...env },
  });
}

let redis: RedisService | undefined;

beforeAll(async () => {
  const packages = publishedPackages();
  const filters = packages.flatMap((p) => ["--filter", p.name]);
  run("pnpm", ["exec", "turbo", "run", "build", "--output-logs=errors-only", ...filters], repoRoot);
  const out = join(scratch, "tarballs");
  for (const p of packages) {
    const printed = run("pnpm", ["pack", "--pack-destination", out], p.dir).trim().split("\n");
    tarballs.set(p.name, printed[printed.length - 1] as string);
  }
  redis = await startRedis();
}, 600_000);

afterAll(async () => {
  await redis?.stop();
  rmSync(scratch, { recursive: true, force: true });
});

describe("packed packages install and work outside the workspace", () => {
  it("every package.json names the repository (with its directory), homepage and bugs", () => {
    for (const p of publishedPackages()) {
      const pkg = JSON.parse(readFileSync(join(p.dir, "package.json"), "utf8"));
      expect(pkg.repository, p.name).toEqual({
        type: "git",
        url: "git+https://github.com/outrig-dev/outrig.git",
        directory: relative(repoRoot, p.dir),
      });
      expect(pkg.homepage, p.name).toMatch(/^https:\/\/github\.com\/outrig-dev\/outrig\//);
      expect(pkg.bugs, p.name).toEqual({ url: "https://github.com/outrig-dev/outrig/issues" });
      expect(readFileSync(join(p.dir, "LICENSE"), "utf8")).toBe(
        readFileSync(join(repoRoot, "LICENSE"), "utf8"),
      );
    }
  });

  it("every tarball holds dist and no sources or tests", () => {
    for (const [name, file] of tarballs) {
      const listing = run("tar", ["-tzf", file], scratch);
      expect(listing, name).toContain("package/dist/index.js");
      expect(listing, name).toContain("package/LICENSE");
      expect(listing, name).toContain("package/README.md");
      expect(listing, name).not.toMatch(/package\/(src|test)\//);
    }
  });

  it("@outrig/memory alone: state and pub/sub in process", { timeout: 300_000 }, () => {
    const dir = projectWith(["@outrig/core", "@outrig/memory"]);
    const output = node(
      dir,
      `import { createMemoryStateStore, createMemoryPubSub, manifest } from "@outrig/memory";
import { decodeJson } from "@outrig/core";
const store = await createMemoryStateStore();
await store.set({ key: "k", value: { hello: "world" } });
const got = await store.get({ key: "k" });
const pubsub = await createMemoryPubSub();
const received = new Promise((resolve) => pubsub.subscribe({ topic: "t" }, async (m) => resolve(new TextDecoder().decode(m.data))));
await pubsub.publish({ topic: "t", data: new TextEncoder().encode("ping") });
console.log(JSON.stringify({ value: decodeJson(got.data), etag: typeof got.etag, message: await received, types: manifest.components.map((c) => c.type) }));
await store.close(); await pubsub.close();`,
    );
    expect(JSON.parse(output)).toEqual({
      value: { hello: "world" },
      etag: "string",
      message: "ping",
      // The kinds this script used; the full list is the consistency check's to compare.
      types: expect.arrayContaining(["state.in-memory", "pubsub.in-memory"]),
    });
  });

  it("@outrig/redis alone, against the test Redis", { timeout: 300_000 }, () => {
    const dir = projectWith(["@outrig/core", "@outrig/redis"]);
    const output = node(
      dir,
      `import { createRedisStateStore } from "@outrig/redis";
const store = await createRedisStateStore({ redisHost: process.env.REDIS_HOST });
const key = "pack-" + Date.now();
await store.set({ key, value: 42 });
const got = await store.get({ key });
console.log(new TextDecoder().decode(got.data));
await store.delete({ key });
await store.close();`,
      { REDIS_HOST: `${redis?.host}:${redis?.port}` },
    );
    expect(output.trim()).toBe("42");
  });

  it("every published package installs from its tarball and imports; the CLI runs", {
    timeout: 600_000,
  }, () => {
    const names = [...tarballs.keys()];
    const dir = projectWith(names);
    const importable = names.filter((n) => n !== "outrig");
    const output = node(
      dir,
      `const names = ${JSON.stringify(importable)};
const loaded = [];
for (const name of names) { await import(name); loaded.push(name); }
console.log(JSON.stringify(loaded));`,
    );
    expect(JSON.parse(output)).toEqual(importable);
    if (tarballs.has("outrig")) {
      const version = execFileSync(join(dir, "node_modules", ".bin", "outrig"), ["--version"], {
        encoding: "utf8",
        env: { ...process.env, PATH: `${dirname(process.execPath)}:${process.env.PATH}` },
      });
      expect(version.trim()).toMatch(/\d+\.\d+\.\d+/);
    }
  });
});

describe("outrig installed globally from its tarballs", () => {
  it("init, components add from a local tarball, then run with state.redis through the sidecar", {
    timeout: 600_000,
  }, async () => {
    const prefix = join(scratch, "global");
    const cliTarballs = [
      "outrig",
      "@outrig/core",
      "@outrig/runtime",
      "@outrig/memory",
      "@outrig/sqlite",
    ];
    run(
      "npm",
      [
        "install",
        "-g",
        "--prefix",
        prefix,
        "--no-audit",
        "--no-fund",
        "--loglevel=error",
        ...cliTarballs.map((n) => tarballs.get(n) as string),
      ],
      scratch,
    );
    const home = join(scratch, "home");
    const project = join(scratch, "global-project");
    mkdirSync(join(project, "resources"), { recursive: true });
    // As on a user's machine: no NODE_PATH (pnpm sets one that reaches the workspace packages).
    const { NODE_PATH: _workspace, ...machine } = process.env;
    const env = {
      ...machine,
      OUTRIG_HOME: home,
      NO_COLOR: "1",
      PATH: `${join(prefix, "bin")}:${dirname(process.execPath)}:${process.env.PATH}`,
    };
    const outrig = (args: string[]) =>
      execFileSync("outrig", args, {
        cwd: project,
        env,
        encoding: "utf8",
        stdio: ["ignore", "pipe", "pipe"],
        // Bounded: a run that should fail at once must not hang the suite if it starts instead.
        timeout: 120_000,
      });

    expect(outrig(["version"])).toMatch(
      /CLI version: \d+\.\d+\.\d+ \nRuntime version: \d+\.\d+\.\d+/,
    );
    expect(outrig(["init"])).toContain("outrig is initialized");
    expect(existsSync(join(home, "components", "statestore.yaml"))).toBe(true);

    writeFileSync(
      join(project, "resources", "redis.yaml"),
      `apiVersion: dapr.io/v1alpha1
kind: Component
metadata:
  name: cache
spec:
  type: state.redis
  version: v1
  metadata:
    - name: redisHost
      value: "${redis?.host}:${redis?.port}"
`,
    );
    const runArgs = ["run", "--app-id", "global", "--resources-path", "./resources"];
    // Not installed yet: the error names the command that installs it.
    let missing = "";
    try {
      outrig(runArgs);
    } catch (error) {
      missing = String((error as { stderr?: string }).stderr);
    }
    expect(missing).toContain("outrig components add redis");

    outrig(["components", "add", tarballs.get("@outrig/redis") as string]);
    expect(outrig(["components", "list"])).toContain("@outrig/redis");

    const cli = spawn("outrig", runArgs, { cwd: project, env, stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    cli.stdout.on("data", (c: Buffer) => {
      output += c.toString();
    });
    cli.stderr.on("data", (c: Buffer) => {
      output += c.toString();
    });
    const exited = new Promise<number | null>((r) => cli.once("close", (code) => r(code)));
    try {
      const deadline = Date.now() + 60_000;
      while (
        !/You're up and running/.test(output) &&
        Date.now() < deadline &&
        cli.exitCode === null
      ) {
        await new Promise((r) => setTimeout(r, 50));
      }
      const port = /HTTP Port: (\d+)/.exec(output)?.[1];
      expect(port, output).toBeDefined();
      const url = `http://127.0.0.1:${port}/v1.0/state/cache`;
      const key = `global-${Date.now()}`;
      const saved = await fetch(url, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify([{ key, value: { installed: true } }]),
      });
      expect(saved.status, output).toBe(204);
      expect(await (await fetch(`${url}/${key}`)).json()).toEqual({ installed: true });
    } finally {
      cli.kill("SIGTERM");
    }
    expect(await exited, output).toBe(0);
  });
});

describe("independent versions with changesets", () => {
  it("`changeset version` bumps only the packages its changesets name (and their dependents)", {
    timeout: 300_000,
  }, () => {
    const clone = join(scratch, "clone");
    run("git", ["clone", "--quiet", repoRoot, clone], scratch);
    const before = new Map(publishedPackages().map((p) => [p.name, version(p.dir)]));
    const named = new Set<string>();
    for (const file of readdirSync(join(clone, ".changeset")).filter(
      (f) => f.endsWith(".md") && f !== "README.md",
    )) {
      const front =
        /^---\n([\s\S]*?)\n---/.exec(readFileSync(join(clone, ".changeset", file), "utf8"))?.[1] ??
        "";
      for (const m of front.matchAll(/^"([^"]+)":/gm)) named.add(m[1] as string);
    }
    const bin = join(repoRoot, "node_modules", "@changesets", "cli", "bin.js");
    run(process.execPath, [bin, "version"], clone);
    for (const [name, was] of before) {
      const dir = publishedPackages().find((p) => p.name === name)?.dir ?? "";
      const now = version(join(clone, relative(repoRoot, dir)));
      if (named.has(name)) expect(now, name).not.toBe(was);
    }
    // The consumed changesets are gone and each bumped package got a changelog entry.
    const left = readdirSync(join(clone, ".changeset")).filter(
      (f) => f.endsWith(".md") && f !== "README.md",
    );
    expect(left).toEqual([]);
    for (const name of named) {
      const dir = publishedPackages().find((p) => p.name === name)?.dir;
      if (dir)
        expect(
          readFileSync(join(clone, relative(repoRoot, dir), "CHANGELOG.md"), "utf8"),
        ).toContain(name);
    }
  });

  it("a release dry run of every package succeeds", { timeout: 300_000 }, () => {
    const output = run(
      "pnpm",
      ["publish", "-r", "--dry-run", "--no-git-checks", "--access", "public"],
      repoRoot,
    );
    for (const p of publishedPackages()) expect(output).toContain(p.name);
  });
});

function version(dir: string): string {
  return (JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as { version: string })
    .version;
}
