/** What a bounded GET brought back: the status and the body as text. */
export interface BoundedResponse {
  status: number;
  text: string;
}

/**
 * GETs `url`, giving up after `timeoutMs` (connecting and reading the body both count) and
 * refusing a body past `maxBytes`: a sidecar that hangs or babbles must not stall the dashboard.
 * Errors name the URL and what went wrong.
 */
export async function boundedGet(
  url: string,
  timeoutMs: number,
  maxBytes: number,
  headers: Record<string, string> = {},
): Promise<BoundedResponse> {
  try {
    const response = await fetch(url, { headers, signal: AbortSignal.timeout(timeoutMs) });
    const reader = response.body?.getReader();
    const chunks: Uint8Array[] = [];
    let size = 0;
    while (reader) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.byteLength;
      if (size > maxBytes) {
        await reader.cancel();
        throw new Error(`the answer is larger than ${maxBytes} bytes`);
      }
      chunks.push(value);
    }
    return { status: response.status, text: Buffer.concat(chunks).toString("utf8") };
  } catch (error) {
    const reason =
      (error as Error).name === "TimeoutError"
        ? `no answer within ${timeoutMs} ms`
        : ((error as Error & { cause?: Error }).cause?.message ?? (error as Error).message);
    throw new Error(`GET ${url}: ${reason}`, { cause: error });
  }
}
