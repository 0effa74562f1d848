import type { IncomingMessage, ServerResponse } from "node:http";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { decrypt as apiDecrypt, encrypt as apiEncrypt } from "../api/crypto.ts";
import type { Handler } from "./context.ts";
import { bodyLimiter } from "./limits.ts";

// Decoding and encoding only: the cryptography rules live in ../api/crypto.ts. Bodies stream both
// ways (at most a segment or two in memory), within the request's max-body-size.

function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return (Array.isArray(v) ? v[0] : v) || undefined;
}

/** The request body as a stream of chunks, cut off (413) past the body limit. */
function body(req: IncomingMessage): AsyncIterable<Uint8Array> {
  return req.pipe(bodyLimiter(req));
}

/**
 * Sends the output once the operation has started: headers go out with the first chunk, so a
 * failure before it is still a JSON error; a failure after it can only cut the response short
 * (the connection is reset, never a plaintext segment that did not verify).
 */
async function stream(res: ServerResponse, output: AsyncGenerator<Buffer>): Promise<void> {
  const first = await output.next();
  res.writeHead(200, { "content-type": "application/octet-stream" });
  if (first.done) {
    res.end();
    return;
  }
  const rest = (async function* () {
    yield first.value;
    yield* output;
  })();
  await pipeline(Readable.from(rest), res).catch((error: unknown) => {
    res.destroy(error as Error);
  });
}

export const encrypt: Handler = async (ctx, req: IncomingMessage, res: ServerResponse, params) => {
  const output = await apiEncrypt(
    ctx,
    {
      component: params.name,
      keyName: header(req, "dapr-key-name"),
      keyWrapAlgorithm: header(req, "dapr-key-wrap-algorithm"),
      dataEncryptionCipher: header(req, "dapr-data-encryption-cipher"),
      omitDecryptionKeyName: header(req, "dapr-omit-decryption-key-name"),
      decryptionKeyName: header(req, "dapr-decryption-key-name"),
    },
    body(req),
    { keyName: "header 'dapr-key-name'", keyWrapAlgorithm: "header 'dapr-key-wrap-algorithm'" },
  );
  await stream(res, output);
};

export const decrypt: Handler = async (ctx, req: IncomingMessage, res: ServerResponse, params) => {
  const output = await apiDecrypt(
    ctx,
    { component: params.name, keyName: header(req, "dapr-key-name") },
    body(req),
  );
  await stream(res, output);
};
