// A sidecar in a process of its own (a fixture in test/fixtures, by default jobs-sidecar.ts),
// for tests that SIGKILL it. The fixture prints one JSON line about itself once it listens.
import { spawn } from "node:child_process";
import { join } from "node:path";

/** Starts the fixture with `env`; resolves with its URL and all it printed (`info`). */
export async function sidecarProcess<T extends { url: string } = { url: string }>(
  env: Record<string, string>,
  fixture = "jobs-sidecar.ts",
): Promise<{ url: string; info: T; kill(): Promise<void> }> {
  const child = spawn(
    process.execPath,
    ["--conditions=@outrig/source", join(import.meta.dirname, "fixtures", fixture)],
    { env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "inherit"] },
  );
  const info = await new Promise<T>((resolve, reject) => {
    let out = "";
    child.stdout.on("data", (chunk: Buffer) => {
      out += chunk.toString("utf8");
      const line = out.split("\n").find((l) => l.startsWith("{"));
      if (line) resolve(JSON.parse(line) as T);
    });
    child.once("exit", (code) => reject(new Error(`sidecar process exited with ${code}`)));
  });
  const exited = new Promise<void>((r) => child.once("exit", () => r()));
  return {
    url: info.url,
    info,
    kill: async () => {
      child.kill("SIGKILL");
      await exited;
    },
  };
}
