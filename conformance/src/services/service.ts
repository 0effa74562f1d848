import { existsSync } from "node:fs";
import { createServer } from "node:net";
import {
  GenericContainer,
  getContainerRuntimeClient,
  ImageName,
  type StartedTestContainer,
  type WaitStrategy,
} from "testcontainers";
import { imageEnvVar, type TestServiceDefinition } from "./definition.ts";
import { waitUntilReady } from "./probes.ts";
import { type ServiceName, TEST_SERVICES } from "./registry.ts";
import type { ServiceHandle, StartServiceOptions } from "./types.ts";

/** Label on every container this module starts, so a teardown can remove leftovers. */
export const TEST_CONTAINER_LABEL = "outrig.test";

const PODMAN_SOCKET = "/run/podman/podman.sock";
// Below vitest's hookTimeout (120 s in packages/tools/src/vitest-preset.ts), so our error, with the container logs, wins.
const DEFAULT_READY_TIMEOUT_MS = 90_000;

type BaseHandle = Omit<ServiceHandle, "name" | "url"> & {
  /** Host ports of `ContainerSpec.extraPorts`, in the same order. */
  extraHostPorts: number[];
};

export interface ContainerSpec {
  service: TestServiceDefinition<ServiceName>;
  /** The port inside the container; `undefined` means "the same number as the host port". */
  containerPort: number | undefined;
  /** Further container ports to publish (e.g. a TLS listener), each on a free host port. */
  extraPorts?: number[];
  environment?: (hostPort: number, extraHostPorts: number[]) => Record<string, string>;
  command?: string[] | ((hostPort: number, extraHostPorts: number[]) => string[]);
  /** Files written into the container before it starts (configuration, test certificates). */
  files?: Array<{ content: string; target: string; mode?: number }>;
  probe: (host: string, port: number) => Promise<unknown>;
}

function log(message: string): void {
  console.info(`[outrig services] ${message}`);
}

function howToProvide(service: TestServiceDefinition): string {
  return (
    `provide a container engine — on Debian as root: \`source conformance/scripts/services-up.sh\` ` +
    `(installs podman, starts its Docker-compatible socket ${PODMAN_SOCKET}, builds the images with ` +
    `\`pnpm conformance:images\`), or set DOCKER_HOST to a Docker or podman socket — or point ` +
    `${service.override.variable} at a running ${service.name}`
  );
}

/**
 * Finds podman's system socket when DOCKER_HOST is unset, and applies the settings this machine
 * needs for it: no reaper (its image cannot be pulled without a registry) and loopback for
 * mapped ports. Values already in the environment win.
 */
function configureEngineEnvironment(): void {
  if (
    !process.env.DOCKER_HOST &&
    !existsSync("/var/run/docker.sock") &&
    existsSync(PODMAN_SOCKET)
  ) {
    process.env.DOCKER_HOST = `unix://${PODMAN_SOCKET}`;
  }
  if (process.env.DOCKER_HOST?.includes("podman")) {
    process.env.TESTCONTAINERS_RYUK_DISABLED ??= "true";
    process.env.TESTCONTAINERS_HOST_OVERRIDE ??= "127.0.0.1";
  }
}

async function runtimeClient(service: TestServiceDefinition) {
  configureEngineEnvironment();
  try {
    return await getContainerRuntimeClient();
  } catch (error) {
    throw new Error(
      `cannot start ${service.name}: no container engine answered (${error instanceof Error ? error.message : String(error)}); ${howToProvide(service)}`,
      { cause: error },
    );
  }
}

/**
 * The image to run: an explicit option, then `OUTRIG_TEST_<SVC>_IMAGE`, then the locally built
 * image when the engine has it (`pnpm conformance:images`), then the public image.
 */
export async function resolveImage(name: ServiceName, explicit?: string): Promise<string> {
  const service = TEST_SERVICES.find((s) => s.name === name);
  if (!service) throw new Error(`no test service named ${JSON.stringify(name)}`);
  return imageOf(service, explicit);
}

async function imageOf(service: TestServiceDefinition, explicit?: string): Promise<string> {
  const fromEnv = explicit ?? process.env[imageEnvVar(service.name)];
  if (fromEnv) return fromEnv;
  const images = service.image;
  const client = await runtimeClient(service);
  if (await client.image.exists(ImageName.fromString(images.local))) return images.local;
  return images.public;
}

/** A free TCP port on loopback; the container publishes on it so a restart keeps the address. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => {
        if (address && typeof address === "object") resolve(address.port);
        else reject(new Error("could not pick a free port"));
      });
    });
  });
}

/** Adapts a protocol probe to testcontainers, so `start()` returns only once the service answers. */
function probeWaitStrategy(what: string, probe: () => Promise<unknown>): WaitStrategy {
  let timeoutMs = DEFAULT_READY_TIMEOUT_MS;
  let timeoutSet = false;
  const strategy: WaitStrategy = {
    async waitUntilReady() {
      await waitUntilReady(what, probe, timeoutMs);
    },
    withStartupTimeout(ms: number) {
      timeoutMs = ms;
      timeoutSet = true;
      return strategy;
    },
    isStartupTimeoutSet: () => timeoutSet,
    getStartupTimeout: () => timeoutMs,
  };
  return strategy;
}

async function containerLogs(id: string, service: TestServiceDefinition): Promise<string> {
  try {
    const client = await runtimeClient(service);
    const raw = await client.container.getById(id).logs({ stdout: true, stderr: true, tail: 40 });
    return demultiplex(raw);
  } catch {
    return "(no logs)";
  }
}

/** Docker's log stream without a TTY: frames of an 8-byte header (stream, size) and a payload. */
function demultiplex(raw: Buffer): string {
  const parts: Buffer[] = [];
  let offset = 0;
  while (offset + 8 <= raw.length && raw[offset + 1] === 0 && raw[offset]! <= 2) {
    const size = raw.readUInt32BE(offset + 4);
    parts.push(raw.subarray(offset + 8, offset + 8 + size));
    offset += 8 + size;
  }
  return offset === 0 ? raw.toString("utf8") : Buffer.concat(parts).toString("utf8");
}

export async function startContainer(
  spec: ContainerSpec,
  options: StartServiceOptions,
): Promise<BaseHandle> {
  const { service } = spec;
  const { name } = service;
  const client = await runtimeClient(service); // fails first, with how to provide an engine
  const image = await imageOf(service, options.image);
  const readyTimeoutMs = options.readyTimeoutMs ?? DEFAULT_READY_TIMEOUT_MS;
  let started: StartedTestContainer | undefined;
  let hostPort = 0;
  let extraHostPorts: number[] = [];
  let host = "127.0.0.1";
  for (let attempt = 1; started === undefined; attempt++) {
    hostPort = await freePort();
    extraHostPorts = [];
    for (const _ of spec.extraPorts ?? []) extraHostPorts.push(await freePort());
    const containerPort = spec.containerPort ?? hostPort;
    log(`starting ${name} from image ${image} on host port ${hostPort}`);
    const startedAt = Date.now();
    let container = new GenericContainer(image)
      .withName(`outrig-test-${name}-${hostPort}-${process.pid}`)
      .withLabels(containerLabels(name))
      .withExposedPorts(
        { container: containerPort, host: hostPort },
        ...(spec.extraPorts ?? []).map((container, i) => ({
          container,
          host: extraHostPorts[i] as number,
        })),
      )
      .withEnvironment(spec.environment?.(hostPort, extraHostPorts) ?? {})
      .withWaitStrategy(probeWaitStrategy(`${name} (${image})`, () => spec.probe(host, hostPort)))
      .withStartupTimeout(readyTimeoutMs);
    if (spec.command) {
      container = container.withCommand(
        typeof spec.command === "function" ? spec.command(hostPort, extraHostPorts) : spec.command,
      );
    }
    if (spec.files?.length) container = container.withCopyContentToContainer(spec.files);
    host = process.env.TESTCONTAINERS_HOST_OVERRIDE ?? "127.0.0.1";
    try {
      started = await container.start();
      host = started.getHost();
      log(`${name} ready on ${host}:${hostPort} in ${Date.now() - startedAt} ms (image ${image})`);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      const portTaken = /address already in use|port is already allocated|bind/i.test(message);
      if (portTaken && attempt < 3) continue;
      const logs = await removeContainersNamed(
        `outrig-test-${name}-${hostPort}-${process.pid}`,
        service,
      );
      const hint =
        /no such image|not found|pull|manifest unknown|unauthorized|requested access/i.test(message)
          ? `; the image ${image} is not available: build the local images with \`pnpm conformance:images\` (as root, with podman) or set ${imageEnvVar(name)}`
          : "";
      const tail = logs ? `\n--- last container logs ---\n${logs}` : "";
      throw new Error(`cannot start ${name} from image ${image}: ${message}${hint}${tail}`, {
        cause: error,
      });
    }
  }

  const containerId = started.getId();
  const dockerContainer = client.container.getById(containerId);
  let removed = false;
  let running = true;

  const ping = async () => {
    await spec.probe(host, hostPort);
  };
  const waitReady = async (what: string) => {
    try {
      await waitUntilReady(`${name} (${image}) after ${what}`, ping, readyTimeoutMs);
    } catch (error) {
      const logs = await containerLogs(containerId, service);
      throw new Error(`${(error as Error).message}\n--- last container logs ---\n${logs}`, {
        cause: error,
      });
    }
  };
  const stopTemporarily = async () => {
    if (removed) throw new Error(`${name} container was removed; start a new one`);
    if (!running) return;
    log(`stopping ${name} (container ${containerId.slice(0, 12)}) temporarily`);
    await dockerContainer.stop({ t: 2 }).catch((error: { statusCode?: number }) => {
      if (error.statusCode !== 304) throw error; // 304: already stopped
    });
    running = false;
  };
  const start = async () => {
    if (removed) throw new Error(`${name} container was removed; start a new one`);
    if (running) return;
    const startedAt = Date.now();
    await dockerContainer.start();
    running = true;
    await waitReady("start");
    log(`${name} back on ${host}:${hostPort} in ${Date.now() - startedAt} ms`);
  };
  const stop = async () => {
    if (removed) return;
    removed = true;
    log(`removing ${name} container ${containerId.slice(0, 12)}`);
    await dockerContainer
      .remove({ force: true, v: true })
      .catch((error: { statusCode?: number }) => {
        if (error.statusCode !== 404) throw error;
      });
  };
  return {
    image,
    containerId,
    external: false,
    host,
    port: hostPort,
    extraHostPorts,
    stop,
    restart: async () => {
      await stopTemporarily();
      await start();
    },
    stopTemporarily,
    start,
    ping,
    [Symbol.asyncDispose]: stop,
  };
}

/** A service named by an `OUTRIG_TEST_*` override: used as it is, never stopped or restarted. */
export async function useExternal(
  service: TestServiceDefinition<ServiceName>,
  host: string,
  port: number,
  probe: (host: string, port: number) => Promise<unknown>,
  readyTimeoutMs = 30_000,
): Promise<BaseHandle> {
  const { name } = service;
  const { variable } = service.override;
  log(`using the running ${name} at ${host}:${port} (from ${variable}); no container started`);
  const ping = async () => {
    await probe(host, port);
  };
  await waitUntilReady(`${name} at ${host}:${port} (${variable})`, ping, readyTimeoutMs);
  const notManaged = (operation: string) => async () => {
    throw new Error(
      `${operation}() needs a container, but ${name} comes from ${variable}, a service outrig does not manage; unset ${variable} (or pass { container: true }) to run ${name} in a container`,
    );
  };
  return {
    image: undefined,
    containerId: undefined,
    external: true,
    host,
    port,
    extraHostPorts: [],
    stop: async () => {},
    restart: notManaged("restart"),
    stopTemporarily: notManaged("stopTemporarily"),
    start: notManaged("start"),
    ping,
    [Symbol.asyncDispose]: async () => {},
  };
}

/** Removes a failed start's container, returning the end of its logs for the error message. */
async function removeContainersNamed(
  containerName: string,
  service: TestServiceDefinition,
): Promise<string> {
  try {
    const client = await runtimeClient(service);
    const all = await client.container.dockerode.listContainers({
      all: true,
      filters: { name: [containerName] },
    });
    const logs = await Promise.all(all.map((c) => containerLogs(c.Id, service)));
    await Promise.all(
      all.map((c) => client.container.getById(c.Id).remove({ force: true, v: true })),
    );
    return logs.join("\n");
  } catch {
    // Best effort: the label-based teardown catches what is left.
    return "";
  }
}

/**
 * Labels on every test container: the test label, the service, the process that started it (so
 * a teardown can tell a live run's containers from a crashed run's), and the CI run id
 * `OUTRIG_TEST_RUN_ID` when services-up.sh set one.
 */
function containerLabels(name: ServiceName): Record<string, string> {
  const labels: Record<string, string> = {
    [TEST_CONTAINER_LABEL]: "true",
    "outrig.service": name,
    "outrig.pid": String(process.pid),
  };
  const run = process.env.OUTRIG_TEST_RUN_ID;
  if (run) labels["outrig.run"] = run;
  return labels;
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/**
 * Removes leftover test containers: those whose starting process is gone and, with
 * `{ currentRun: true }` (for the end of a whole run, never from inside one test file while
 * others run), every container of the current `OUTRIG_TEST_RUN_ID`. Containers of other live test
 * processes are left alone, since several runs may share one engine. Returns how many it removed.
 */
export async function removeTestContainers(
  options: { currentRun?: boolean } = {},
): Promise<number> {
  configureEngineEnvironment();
  const client = await getContainerRuntimeClient();
  const all = await client.container.dockerode.listContainers({
    all: true,
    filters: { label: [`${TEST_CONTAINER_LABEL}=true`] },
  });
  const run = options.currentRun ? process.env.OUTRIG_TEST_RUN_ID : undefined;
  const leftovers = all.filter((c) => {
    const labels = c.Labels ?? {};
    if (run && labels["outrig.run"] === run) return true;
    const pid = Number(labels["outrig.pid"]);
    return !(Number.isInteger(pid) && pid > 0 && processAlive(pid));
  });
  await Promise.all(
    leftovers.map((c) => client.container.getById(c.Id).remove({ force: true, v: true })),
  );
  return leftovers.length;
}

/** Splits `host:port` (or a URL's authority) into its parts, with a default port. */
export function hostAndPort(value: string, defaultPort: number): { host: string; port: number } {
  const authority = value.includes("://") ? new URL(value).host : value;
  const match = /^(\[[^\]]+\]|[^:]+)(?::(\d+))?$/.exec(authority);
  if (!match) throw new Error(`cannot read host and port from ${JSON.stringify(value)}`);
  return {
    host: match[1]!.replace(/^\[|\]$/g, ""),
    port: match[2] ? Number(match[2]) : defaultPort,
  };
}
