import { type ChildProcess, spawn } from "node:child_process";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import { createSqliteStateStore } from "../src/index.ts";
import { tempDir } from "./helpers.ts";

const writer = fileURLToPath(new URL("./fixtures/writer.ts", import.meta.url));
const dir = tempDir("durability");
const children: ChildProcess[] = [];

interface Summary {
  errors: string[];
  conflicts: number;
  startedAt: number;
  endedAt: number;
}

/** The child runs the store from TypeScript source with the same Node binary as the tests. */
function startWriter(args: string[]): ChildProcess {
  const child = spawn(
    process.execPath,
    ["--conditions=@outrig/source", "--no-warnings", writer, ...args],
    {
      stdio: ["pipe", "pipe", "pipe"],
    },
  );
  children.push(child);
  return child;
}

afterEach(() => {
  for (const child of children.splice(0)) if (child.exitCode === null) child.kill("SIGKILL");
});

function stderrOf(child: ChildProcess): () => string {
  let text = "";
  child.stderr?.on("data", (chunk: Buffer) => {
    text += chunk.toString();
  });
  return () => text;
}

describe("durability", () => {
  it("loses no acknowledged write when the writer is killed with SIGKILL mid-stream", async () => {
    const db = join(dir, "killed.db");
    const prefix = `kill-${Date.now()}`;
    const child = startWriter(["stream", db, prefix, "100000"]);
    const stderr = stderrOf(child);
    const acknowledged: string[] = [];
    const exited = new Promise<NodeJS.Signals | null>((resolve) =>
      child.on("exit", (_code, signal) => resolve(signal)),
    );

    await new Promise<void>((resolve, reject) => {
      const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
      lines.on("line", (line) => {
        acknowledged.push(line);
        // Kill while writes are still streaming, well before the child could finish.
        if (acknowledged.length === 300) {
          child.kill("SIGKILL");
          resolve();
        }
      });
      child.on("exit", () => reject(new Error(`writer exited before it was killed: ${stderr()}`)));
    });
    expect(await exited, "the writer must have died from SIGKILL").toBe("SIGKILL");
    expect(acknowledged.length).toBeGreaterThanOrEqual(300);

    const store = await createSqliteStateStore({ connectionString: db });
    try {
      const items = await store.bulkGet(acknowledged.map((key) => ({ key })));
      const missing = items.filter((item) => item.data === null).map((item) => item.key);
      expect(missing, "every write the child acknowledged must survive the kill").toEqual([]);
      const last = acknowledged[acknowledged.length - 1] as string;
      const lastIndex = Number(last.slice(prefix.length + 1));
      const got = await store.get({ key: last });
      expect(JSON.parse(new TextDecoder().decode(got.data as Uint8Array))).toEqual({
        i: lastIndex,
        payload: "x".repeat(64),
      });
    } finally {
      await store.close();
    }
  });

  it("two processes writing the same file concurrently: no SQLITE_BUSY surfaces and counts add up", async () => {
    const db = join(dir, "shared.db");
    const perProcess = 300;
    // Both children open the store, say "ready", and start on the same "go": a start barrier.
    const writers = ["a", "b"].map((prefix) => {
      const child = startWriter(["mixed", db, prefix, String(perProcess)]);
      const stderr = stderrOf(child);
      const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
      const ready = new Promise<void>((resolve, reject) => {
        lines.once("line", (line) => (line === "ready" ? resolve() : reject(new Error(line))));
        child.once("exit", (code) =>
          reject(new Error(`writer ${prefix} exited with ${code}: ${stderr()}`)),
        );
      });
      const summary = new Promise<Summary>((resolve, reject) => {
        let last = "";
        lines.on("line", (line) => {
          last = line;
        });
        child.on("exit", (code) => {
          if (code !== 0) reject(new Error(`writer ${prefix} exited with ${code}: ${stderr()}`));
          else resolve(JSON.parse(last));
        });
      });
      return { child, ready, summary };
    });
    await Promise.all(writers.map((w) => w.ready));
    for (const w of writers) w.child.stdin?.write("go\n");
    const [a, b] = (await Promise.all(writers.map((w) => w.summary))) as [Summary, Summary];
    expect(
      a.startedAt < b.endedAt && b.startedAt < a.endedAt,
      `the two writers must overlap in time: ${JSON.stringify({ a, b })}`,
    ).toBe(true);
    expect(a.errors, "process a saw errors").toEqual([]);
    expect(b.errors, "process b saw errors").toEqual([]);

    const store = await createSqliteStateStore({ connectionString: db });
    try {
      const keys = await store.keysLike({ pattern: "a-%" });
      const keysB = await store.keysLike({ pattern: "b-%" });
      expect(keys.keys.length).toBe(perProcess);
      expect(keysB.keys.length).toBe(perProcess);
      const counter = await store.get({ key: "counter" });
      expect(
        Number(new TextDecoder().decode(counter.data as Uint8Array)),
        "no increment may be lost",
      ).toBe(2 * perProcess);
    } finally {
      await store.close();
    }
  }, 120_000);
});
