import { TEST_SERVICES } from "./registry.ts";
import type { ServiceHandle } from "./types.ts";

/** The `OUTRIG_TEST_*` variable and value that make `start<Svc>()` reuse a running service. */
export function overrideFor(service: ServiceHandle): [variable: string, value: string] {
  const definition = TEST_SERVICES.find((s) => s.name === service.name);
  if (!definition) throw new Error(`no test service named ${JSON.stringify(service.name)}`);
  return [definition.override.variable, definition.override.value(service)];
}

/**
 * A vitest `globalSetup` that starts each service once for a whole package run and sets its
 * `OUTRIG_TEST_*` override, which the test workers inherit: every file's `start<Svc>()` then
 * reuses the one container instead of starting its own. Files that stop or restart the broker
 * pass `{ container: true }` and get a private one. The returned teardown removes the containers
 * and restores the variables.
 *
 *   // test/global-setup.ts, listed in vitest.config.ts `test.globalSetup`
 *   export default sharedServices(startRedis);
 */
export function sharedServices(
  ...starts: Array<() => Promise<ServiceHandle>>
): () => Promise<() => Promise<void>> {
  return async () => {
    const started: ServiceHandle[] = [];
    const previous = new Map<string, string | undefined>();
    const teardown = async () => {
      for (const [variable, value] of previous) {
        if (value === undefined) delete process.env[variable];
        else process.env[variable] = value;
      }
      await Promise.all(started.map((service) => service.stop()));
    };
    try {
      for (const start of starts) {
        const service = await start();
        started.push(service);
        const [variable, value] = overrideFor(service);
        if (!previous.has(variable)) previous.set(variable, process.env[variable]);
        process.env[variable] = value;
      }
    } catch (error) {
      await teardown();
      throw error;
    }
    return teardown;
  };
}
