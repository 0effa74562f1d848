/**
 * A new test service for @outrig/conformance/services: its folder (definition and start
 * function, readiness probe, podman image recipe with image.json) and its lines in registry.ts.
 */
import { readFileSync } from "node:fs";
import { camel, pascal, urlVariable } from "./names.ts";

export interface ServiceInput {
  name: string;
  /** The port the server listens on inside its container. */
  port: number;
}

export const SERVICES_DIR = "conformance/src/services";

/** Paths relative to the services folder. */
export function renderService({ name, port }: ServiceInput): Record<string, string> {
  const Svc = pascal(name);
  const definition = `${camel(name)}Definition`;
  const files: Record<string, string> = {};
  files[`${name}/index.ts`] = `import { defineTestService } from "../definition.ts";
import { hostAndPort, startContainer, useExternal } from "../service.ts";
import type { ServiceHandle, StartServiceOptions } from "../types.ts";
import image from "./image/image.json" with { type: "json" };
import { ping${Svc} } from "./probe.ts";

/** The ${name} test service: its image (./image/image.json) and the variable that names a running one. */
export const ${definition} = defineTestService({
  name: "${name}",
  image,
  override: { variable: "${urlVariable(name)}", value: (service) => service.url },
});

export interface ${Svc}Service extends ServiceHandle {
  readonly name: "${name}";
  /** \`${name}://host:port\` */
  readonly url: string;
}

/** Where ${name} listens inside its container. */
const PORT = ${port};

/** ${name} in a container, or the one \`${urlVariable(name)}\` names (\`${name}://host:port\`). */
export async function start${Svc}(options: StartServiceOptions = {}): Promise<${Svc}Service> {
  const override = options.container ? undefined : process.env[${definition}.override.variable];
  if (override) {
    const { host, port } = hostAndPort(override, PORT);
    const base = await useExternal(${definition}, host, port, ping${Svc}, options.readyTimeoutMs);
    return { ...base, name: "${name}", url: override };
  }
  const base = await startContainer(
    { service: ${definition}, containerPort: PORT, probe: ping${Svc} },
    options,
  );
  return { ...base, name: "${name}", url: \`${name}://\${base.host}:\${base.port}\` };
}
`;
  files[`${name}/probe.ts`] = `import { createConnection } from "node:net";
import { PROBE_TIMEOUT_MS } from "../probes.ts";

/**
 * ${name}: TODO speak its protocol (send a request with \`exchange\` from ../probes.ts and check
 * the answer), so "ready" means it serves requests. Until then: the port accepts a connection.
 */
export function ping${Svc}(host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = createConnection({ host, port, timeout: PROBE_TIMEOUT_MS });
    socket.once("connect", () => {
      socket.destroy();
      resolve();
    });
    socket.once("timeout", () => {
      socket.destroy();
      reject(new Error(\`no answer from \${host}:\${port} within \${PROBE_TIMEOUT_MS} ms\`));
    });
    socket.once("error", reject);
  });
}
`;
  files[`${name}/image/image.json`] = `${JSON.stringify(
    {
      about: `TODO: what the image runs (${name}) and where it comes from.`,
      tag: `localhost/outrig-${name}:0`,
      public: `${name}:latest`,
      changes: [`EXPOSE ${port}`, `CMD ["${name}"]`],
    },
    null,
    2,
  )}\n`;
  files[`${name}/image/recipe.sh`] =
    `# Runs on the build host with ROOTFS set (see scripts/build-images.sh): installs ${name} into the
# Debian bookworm rootfs, e.g. \`apt_install <package>\` or \`in_chroot <command>\`.
echo "recipe for ${name}: TODO install the server into $ROOTFS" >&2
exit 1
`;
  files[`${name}/image/entrypoint.sh`] = `#!/bin/sh
# The image's entrypoint: runs its CMD (or the test's command) in the foreground.
set -e
exec "$@"
`;
  return files;
}

/** registry.ts with the service's import, re-export and TEST_SERVICES entry added. */
export function registerService(registryFile: string, name: string): string {
  const text = readFileSync(registryFile, "utf8");
  const definition = `${camel(name)}Definition`;
  if (text.includes(`"./${name}/index.ts"`)) {
    throw new Error(`${registryFile} already registers ${name}`);
  }
  const list = /TEST_SERVICES = \[\n/.exec(text);
  if (!list) throw new Error(`${registryFile} has no \`TEST_SERVICES = [\` list`);
  const end = list.index + list[0].length;
  const withEntry = `${text.slice(0, end)}  ${definition},\n${text.slice(end)}`;
  const firstImport = withEntry.search(/^import \{/m);
  const firstExport = withEntry.search(/^export \* from/m);
  if (firstImport < 0 || firstExport < 0) {
    throw new Error(`${registryFile} has no service imports and re-exports to add to`);
  }
  return (
    withEntry.slice(0, firstImport) +
    `import { ${definition} } from "./${name}/index.ts";\n` +
    withEntry.slice(firstImport, firstExport) +
    `export * from "./${name}/index.ts";\n` +
    withEntry.slice(firstExport)
  );
}
