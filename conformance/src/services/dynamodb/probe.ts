import { PROBE_TIMEOUT_MS } from "../probes.ts";

/** DynamoDB: `ListTables` answers 200 with a `TableNames` list. */
export async function pingDynamoDB(endpoint: string, region: string): Promise<void> {
  const date = new Date().toISOString().replace(/[-:]|\.\d{3}/g, "");
  const response = await fetch(endpoint, {
    method: "POST",
    signal: AbortSignal.timeout(PROBE_TIMEOUT_MS),
    headers: {
      "content-type": "application/x-amz-json-1.0",
      "x-amz-target": "DynamoDB_20120810.ListTables",
      "x-amz-date": date,
      // Emulators check the shape of the signature, not its value.
      authorization: `AWS4-HMAC-SHA256 Credential=outrig/${date.slice(0, 8)}/${region}/dynamodb/aws4_request, SignedHeaders=content-type;host;x-amz-date;x-amz-target, Signature=${"0".repeat(64)}`,
    },
    body: "{}",
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`dynamodb ListTables answered ${response.status}: ${text}`);
  const body = JSON.parse(text) as { TableNames?: unknown };
  if (!Array.isArray(body.TableNames)) throw new Error(`dynamodb ListTables answered ${text}`);
}
