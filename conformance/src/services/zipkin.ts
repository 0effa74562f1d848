import { type ChildProcess, execFile, spawn } from "node:child_process";
import { access, mkdir } from "node:fs/promises";
import { createServer } from "node:net";
import { homedir } from "node:os";
import { dirname, join } from "node:path";
import { promisify } from "node:util";

const VERSION = "3.5.1";
const ARTIFACT = `io.zipkin:zipkin-server:${VERSION}:jar:exec`;
const JAR = `zipkin-server-${VERSION}-exec.jar`;
/** Fetching the jar once (about 80 MB from Maven Central) may take a while on a slow link. */
const FETCH_TIMEOUT_MS = 10 * 60_000;
const READY_TIMEOUT_MS = 180_000;

/** Zipkin's span as its v2 API answers it. */
export interface ZipkinSpan {
  traceId: string;
  id: string;
  parentId?: string;
  name?: string;
  kind?: string;
  localEndpoint?: { serviceName?: string };
  tags?: Record<string, string>;
  timestamp?: number;
  duration?: number;
}

export interface ZipkinServer {
  /** Zipkin's base URL (`http://127.0.0.1:<port>`). */
  readonly url: string;
  /** Where exporters send spans (`/api/v2/spans`). */
  readonly spansUrl: string;
  /** The spans Zipkin holds for `traceId` (`GET /api/v2/trace/<id>`); none while it has none. */
  trace(traceId: string): Promise<ZipkinSpan[]>;
  /** Stops the server (its storage is in memory: everything goes with it). */
  stop(): Promise<void>;
}

/** The jar, from `OUTRIG_ZIPKIN_JAR` or fetched once into `~/.cache/outrig/zipkin/` by mvn. */
async function zipkinJar(): Promise<string> {
  const jar = process.env.OUTRIG_ZIPKIN_JAR ?? join(homedir(), ".cache", "outrig", "zipkin", JAR);
  try {
    await access(jar);
    return jar;
  } catch {}
  await mkdir(dirname(jar), { recursive: true });
  await promisify(execFile)(
    "mvn",
    ["-q", "-B", "dependency:copy", `-Dartifact=${ARTIFACT}`, `-DoutputDirectory=${dirname(jar)}`],
    { timeout: FETCH_TIMEOUT_MS },
  ).catch((error: Error) => {
    throw new Error(`cannot fetch ${ARTIFACT} with mvn: ${error.message}`, { cause: error });
  });
  await access(jar);
  return jar;
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const address = server.address();
  await new Promise<void>((r) => server.close(() => r()));
  if (!address || typeof address === "string") throw new Error("no free port");
  return address.port;
}

/**
 * A real Zipkin server (Maven Central's `io.zipkin:zipkin-server` exec jar on the machine's Java,
 * in-memory storage) on a free loopback port; resolves once `/health` answers. A missing Java or
 * a failed fetch is an error, never a skipped test.
 */
export async function startZipkin(): Promise<ZipkinServer> {
  const jar = await zipkinJar();
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const child: ChildProcess = spawn(
    "java",
    [
      // A small heap and the quick JIT tier: the server only holds one test's spans.
      "-Xmx256m",
      "-XX:TieredStopAtLevel=1",
      "-jar",
      jar,
      `--server.port=${port}`,
      "--server.address=127.0.0.1",
    ],
    { stdio: ["ignore", "ignore", "pipe"] },
  );
  let stderr = "";
  child.stderr?.on("data", (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4000);
  });
  const exited = new Promise<never>((_, reject) => {
    child.once("error", (error) => reject(new Error(`cannot run java: ${error.message}`)));
    child.once("exit", (code) =>
      reject(new Error(`zipkin exited with ${code} before it was ready: ${stderr}`)),
    );
  });
  exited.catch(() => undefined);
  const stop = async (): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const gone = new Promise<void>((r) => child.once("exit", () => r()));
    child.kill("SIGTERM");
    const force = setTimeout(() => child.kill("SIGKILL"), 5000);
    await gone;
    clearTimeout(force);
  };
  const deadline = Date.now() + READY_TIMEOUT_MS;
  try {
    for (;;) {
      const healthy = await Promise.race([
        fetch(`${url}/health`, { signal: AbortSignal.timeout(2000) }).then(
          (r) => r.ok,
          () => false,
        ),
        exited,
      ]);
      if (healthy) break;
      if (Date.now() > deadline)
        throw new Error(`zipkin did not answer /health within ${READY_TIMEOUT_MS} ms: ${stderr}`);
      await new Promise((r) => setTimeout(r, 250));
    }
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    url,
    spansUrl: `${url}/api/v2/spans`,
    async trace(traceId) {
      const res = await fetch(`${url}/api/v2/trace/${traceId}`, {
        signal: AbortSignal.timeout(5000),
      });
      if (res.status === 404) return [];
      if (!res.ok) throw new Error(`zipkin answered ${res.status} for trace ${traceId}`);
      return (await res.json()) as ZipkinSpan[];
    },
    stop,
  };
}
