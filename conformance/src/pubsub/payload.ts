/**
 * Test payloads are `message-<runID>-<n>`. Brokers may hold messages from earlier or concurrent
 * runs on a reused service, so handlers only count payloads carrying their own run ID.
 */
export function payload(runId: string, seq: number): Uint8Array {
  return new TextEncoder().encode(`message-${runId}-${seq}`);
}

const PAYLOAD = /^message-([A-Za-z0-9]+)-(\d+)$/;

/** The sequence number of one of this run's payloads, or `undefined` for anything else. */
export function parsePayload(data: Uint8Array, runId: string): number | undefined {
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(data);
  } catch {
    return undefined;
  }
  const match = PAYLOAD.exec(text);
  if (!match || match[1] !== runId) return undefined;
  return Number(match[2]);
}

export function range(from: number, count: number): number[] {
  return Array.from({ length: count }, (_, i) => from + i);
}
