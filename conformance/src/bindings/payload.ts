/**
 * Event payloads are a JSON array holding one CloudEvent-like object (Dapr's default
 * `outputData` shape) whose `id` is `<runID>-<n>`. Brokers may hold events from earlier or
 * concurrent runs, so the handler only counts events carrying its own run ID.
 */
export function eventPayload(runId: string, seq: number): Uint8Array {
  return new TextEncoder().encode(
    JSON.stringify([
      {
        specversion: "1.0",
        id: `${runId}-${seq}`,
        source: "outrig-conformance",
        type: "outrig.conformance.binding",
        datacontenttype: "text/plain",
        data: `message-${runId}-${seq}`,
      },
    ]),
  );
}

/** The sequence number of one of this run's payloads, or `undefined` for anything else. */
export function parseEventPayload(data: Uint8Array, runId: string): number | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(data));
  } catch {
    return undefined;
  }
  const id = Array.isArray(parsed) ? (parsed[0] as { id?: unknown } | undefined)?.id : undefined;
  if (typeof id !== "string") return undefined;
  const match = /^([A-Za-z0-9]+)-(\d+)$/.exec(id);
  if (!match || match[1] !== runId) return undefined;
  return Number(match[2]);
}
