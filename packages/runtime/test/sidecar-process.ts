// A sidecar in a process of its own (test/fixtures/jobs-sidecar.ts), for tests that SIGKILL it.
import { spawn } from "node:child_process";
import { join } from "node:path";

/** Starts the sidecar process with `env` (JOBS_APP_ID, JOBS_APP_PORT, JOBS_STORE); resolves with its URL. */
export async function sidecarProcess(
  env: Record<string, string>,
): Promise<{ url: string; kill(): Promise<void> }> {
  const child = spawn(
    process.execPath,
    ["--conditions=@outrig/source", join(import.meta.dirname, "fixtures", "jobs-sidecar.ts")],
    { env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "inherit"] },
  );
  const url = await new Promise<string>((resolve, reject) => {
    let out = "";
    child.stdout.on("data", (chunk: Buffer) => {
      out += chunk.toString("utf8");
      const line = out.split("\n").find((l) => l.startsWith("{"));
      if (line) resolve((JSON.parse(line) as { url: string }).url);
    });
    child.once("exit", (code) => reject(new Error(`sidecar process exited with ${code}`)));
  });
  const exited = new Promise<void>((r) => child.once("exit", () => r()));
  return {
    url,
    kill: async () => {
      child.kill("SIGKILL");
      await exited;
    },
  };
}
