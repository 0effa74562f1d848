import { getMetadata, isInputBinding, type Logger } from "@outrig/core";
import type { AppChannel } from "./app-channel.ts";
import type { Runtime } from "./runtime.ts";

/**
 * Starts every input binding the app listens to: probed with OPTIONS on its route (2xx or 405 =
 * listening) unless its `direction` metadata already says `input`; events are POSTed to the
 * route as `application/json`, and anything but 200 is a failure the binding retries.
 */
export async function startInputBindings(
  runtime: Runtime,
  app: AppChannel,
  logger: Logger,
  signal: AbortSignal,
): Promise<string[]> {
  const started: string[] = [];
  for (const component of runtime.components) {
    if (component.kind !== "bindings" || !isInputBinding(component.instance)) continue;
    const direction = getMetadata(component.metadata, "direction") ?? "";
    const route = `/${(getMetadata(component.metadata, "route") || component.name).replace(/^\/+/, "")}`;
    if (!direction.includes("input")) {
      if (direction.includes("output")) continue;
      try {
        const probe = await app.request({ method: "OPTIONS", path: route, timeoutMs: 5000 });
        if (!((probe.status >= 200 && probe.status < 300) || probe.status === 405)) {
          logger.debug("app does not listen to input binding", {
            name: component.name,
            status: probe.status,
          });
          continue;
        }
      } catch (error) {
        logger.warn("input binding probe failed", {
          name: component.name,
          error: (error as Error).message,
        });
        continue;
      }
    }
    await component.instance.read(async (event) => {
      const headers: Record<string, string> = { "content-type": "application/json" };
      for (const [k, v] of Object.entries(event.metadata)) {
        if (/^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/.test(k) && !/[\r\n\0]/.test(v)) headers[k] = v;
      }
      const response = await app.request({
        method: "POST",
        path: route,
        headers,
        body: Buffer.from(event.data),
      });
      if (response.status !== 200) {
        throw new Error(`app answered ${response.status} to input binding ${component.name}`);
      }
      return response.body.length > 0 ? new Uint8Array(response.body) : undefined;
    }, signal);
    started.push(component.name);
    logger.info("input binding started", { name: component.name, route });
  }
  return started;
}
