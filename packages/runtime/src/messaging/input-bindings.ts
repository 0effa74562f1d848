import { getMetadata, type InputBinding, isInputBinding, type Logger } from "@outrig/core";
import type { AppCallbacks, BindingReply, InputBindingRoute } from "../app/callbacks.ts";
import type { Runtime } from "../runtime.ts";

/**
 * Starts every input binding the app listens to: one whose `direction` metadata says `input`,
 * or, without a direction, one the app says it listens to (an OPTIONS probe on its route over
 * HTTP, ListInputBindings over gRPC). A failed delivery is a failure the binding retries; the
 * app's legacy reply is applied.
 */
export async function startInputBindings(
  runtime: Runtime,
  app: AppCallbacks,
  logger: Logger,
  signal: AbortSignal,
  track: <T>(fn: () => Promise<T>) => Promise<T> = (fn) => fn(),
): Promise<string[]> {
  const inputs: (InputBindingRoute & { direction: string; binding: InputBinding })[] = [];
  for (const component of runtime.components) {
    if (component.kind !== "bindings" || !isInputBinding(component.instance)) continue;
    const direction = getMetadata(component.metadata, "direction") ?? "";
    if (!direction.includes("input") && direction.includes("output")) continue;
    const route = `/${(getMetadata(component.metadata, "route") || component.name).replace(/^\/+/, "")}`;
    inputs.push({ name: component.name, route, direction, binding: component.instance });
  }
  const unsure = inputs.filter((i) => !i.direction.includes("input"));
  const listening = unsure.length > 0 ? await app.inputBindings(unsure, signal) : new Set();
  // Events in flight when the binding stops are left to finish: the channel's close ends them.
  const delivering = new AbortController().signal;
  const started: string[] = [];
  for (const input of inputs) {
    if (!input.direction.includes("input") && !listening.has(input.name)) continue;
    await input.binding.read(
      (event) =>
        track(async () => {
          const reply = await app.bindingEvent(
            { name: input.name, route: input.route, data: event.data, metadata: event.metadata },
            delivering,
          );
          await applyLegacyReply(runtime, reply, logger);
          return reply.response;
        }),
      signal,
    );
    started.push(input.name);
    logger.info("input binding started", { name: input.name, route: input.route });
  }
  return started;
}

/** Dapr's legacy input-binding reply: saves its state and sends its data to output bindings. */
export async function applyLegacyReply(
  runtime: Runtime,
  reply: BindingReply,
  logger: Logger,
): Promise<void> {
  if (reply.storeName && reply.states.length > 0) {
    await runtime.stateStore(reply.storeName).bulkSet(reply.states);
  }
  if (reply.to.length > 0) {
    const send = (name: string) => runtime.invokeBinding(name, "create", reply.data);
    if (reply.concurrency === "sequential") for (const n of reply.to) await send(n);
    else await Promise.all(reply.to.map(send));
    logger.debug("input binding reply sent to output bindings", { to: reply.to });
  }
}
