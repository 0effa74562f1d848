// The cryptography API through the sidecar: HTTP PUT /v1.0-alpha1/crypto/{name}/encrypt|decrypt
// (streamed) and gRPC EncryptAlpha1/DecryptAlpha1, with crypto.dapr.localstorage holding the keys
// of Dapr's crypto quickstart, and the unmodified @dapr/dapr SDK in gRPC mode as the quickstart
// uses it.
import { generateKeyPairSync, randomBytes } from "node:crypto";
import { mkdtemp, writeFile } from "node:fs/promises";
import { request as httpRequest } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { CommunicationProtocolEnum, DaprClient, LogLevel } from "@dapr/dapr";
import * as grpc from "@grpc/grpc-js";
import { openEnvelope, sealEnvelope } from "@outrig/core";
import { createLocalStorageCrypto, manifest as cryptoManifest } from "@outrig/crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DaprClient as RawDaprClient } from "../src/grpc/generated/dapr/proto/runtime/v1/Dapr.ts";
import { daprProtos } from "../src/grpc/protos.ts";
import { createRegistry, type Sidecar } from "../src/index.ts";
import { sidecar } from "./helpers.ts";

const TOKEN = "crypto-token";
let s: Sidecar;
let bare: Sidecar;
let keys: string;
let client: DaprClient;
let raw: RawDaprClient;

beforeAll(async () => {
  keys = await mkdtemp(join(tmpdir(), "outrig-crypto-api-"));
  // As the quickstart: openssl genpkey -algorithm RSA ... -out keys/rsa-private-key.pem;
  // openssl rand -out keys/symmetric-key-256 32 (2048-bit RSA here to keep the test quick).
  const rsa = generateKeyPairSync("rsa", { modulusLength: 2048 });
  await writeFile(
    join(keys, "rsa-private-key.pem"),
    rsa.privateKey.export({ type: "pkcs8", format: "pem" }),
  );
  await writeFile(join(keys, "symmetric-key-256"), randomBytes(32));
  await writeFile(join(keys, "other-key-256"), randomBytes(32));
  s = await sidecar({
    appId: "crypto-app",
    grpcPort: 0,
    apiToken: TOKEN,
    maxBodySize: 1024 * 1024,
    registry: createRegistry({ manifests: [cryptoManifest], discover: false }),
    resources: `
apiVersion: dapr.io/v1alpha1
kind: Component
metadata:
  name: localstorage
spec:
  type: crypto.dapr.localstorage
  version: v1
  metadata:
    - name: path
      value: ${keys}
`,
  });
  bare = await sidecar({ appId: "no-crypto", resources: "" });
  client = new DaprClient({
    daprHost: "127.0.0.1",
    daprPort: String(s.grpcPort),
    communicationProtocol: CommunicationProtocolEnum.GRPC,
    daprApiToken: TOKEN,
    logger: { level: LogLevel.Error },
  });
  const { dapr } = daprProtos();
  raw = new dapr.dapr.proto.runtime.v1.Dapr(
    `127.0.0.1:${s.grpcPort}`,
    grpc.credentials.createInsecure(),
  );
}, 60_000);

afterAll(async () => {
  raw?.close();
  await client?.stop().catch(() => undefined);
  await s?.stop();
  await bare?.stop();
});

async function put(
  op: "encrypt" | "decrypt",
  body: Uint8Array,
  headers: Record<string, string>,
  target: Sidecar = s,
  component = "localstorage",
): Promise<Response> {
  return fetch(`${target.url}/v1.0-alpha1/crypto/${component}/${op}`, {
    method: "PUT",
    headers: { "dapr-api-token": TOKEN, ...headers },
    body,
  });
}

async function ok(res: Response): Promise<Buffer> {
  if (res.status !== 200) throw new Error(`${res.status} ${await res.text()}`);
  expect(res.headers.get("content-type")).toBe("application/octet-stream");
  return Buffer.from(await res.arrayBuffer());
}

async function errorOf(
  res: Response,
): Promise<{ status: number; errorCode: string; message: string }> {
  const body = (await res.json()) as { errorCode: string; message: string };
  return { status: res.status, ...body };
}

describe("HTTP /v1.0-alpha1/crypto", () => {
  for (const [keyName, algorithm] of [
    ["rsa-private-key.pem", "RSA"],
    ["symmetric-key-256", "AES"],
    ["symmetric-key-256", "A256KW"],
  ]) {
    for (const cipher of ["", "chacha20-poly1305"]) {
      it(`round trip with ${keyName} (${algorithm}${cipher ? `, ${cipher}` : ""})`, async () => {
        const plain = Buffer.from("Text to encrypt with Dapr's crypto building block");
        const sealed = await ok(
          await put("encrypt", plain, {
            "dapr-key-name": keyName as string,
            "dapr-key-wrap-algorithm": algorithm as string,
            ...(cipher ? { "dapr-data-encryption-cipher": cipher } : {}),
          }),
        );
        expect(sealed.toString("latin1").split("\n")[0]).toBe("dapr.io/enc/v1");
        const manifest = JSON.parse(sealed.toString("latin1").split("\n")[1] as string);
        expect(manifest).toMatchObject({ k: keyName, cph: cipher ? 2 : 1 });
        expect((await ok(await put("decrypt", sealed, {}))).equals(plain)).toBe(true);
      });
    }
  }

  it("streams a 900 KiB body through both ways (chunked request, 15 segments)", async () => {
    const plain = randomBytes(900 * 1024);
    const send = (path: string, body: Buffer, headers: Record<string, string>) =>
      new Promise<Buffer>((resolve, reject) => {
        const req = httpRequest(
          `${s.url}${path}`,
          { method: "PUT", headers: { "dapr-api-token": TOKEN, ...headers } },
          (res) => {
            const parts: Buffer[] = [];
            res.on("data", (c: Buffer) => parts.push(c));
            res.on("end", () =>
              res.statusCode === 200
                ? resolve(Buffer.concat(parts))
                : reject(new Error(`${res.statusCode} ${Buffer.concat(parts)}`)),
            );
            res.on("error", reject);
          },
        );
        req.on("error", reject);
        pipeline(
          Readable.from(
            (function* () {
              for (let i = 0; i < body.length; i += 10_000) yield body.subarray(i, i + 10_000);
            })(),
          ),
          req,
        ).catch(reject);
      });
    const sealed = await send("/v1.0-alpha1/crypto/localstorage/encrypt", plain, {
      "dapr-key-name": "symmetric-key-256",
      "dapr-key-wrap-algorithm": "A256KW",
    });
    expect(sealed.length).toBeGreaterThan(plain.length + 15 * 16);
    const back = await send("/v1.0-alpha1/crypto/localstorage/decrypt", sealed, {});
    expect(back.equals(plain)).toBe(true);
  });

  it("a chunked body that passes max-body-size mid-stream cuts the answer short, never completes it", async () => {
    const outcome = await new Promise<string>((resolve) => {
      const req = httpRequest(
        `${s.url}/v1.0-alpha1/crypto/localstorage/encrypt`,
        {
          method: "PUT",
          headers: {
            "dapr-api-token": TOKEN,
            "dapr-key-name": "symmetric-key-256",
            "dapr-key-wrap-algorithm": "A256KW",
          },
        },
        (res) => {
          let ended = false;
          res.on("data", () => undefined);
          res.on("end", () => {
            ended = true;
          });
          res.on("error", () => resolve("reset"));
          res.on("close", () => resolve(ended ? `complete ${res.statusCode}` : "reset"));
        },
      );
      req.on("error", () => resolve("reset"));
      pipeline(
        Readable.from(
          (function* () {
            for (let i = 0; i < 30; i++) yield Buffer.alloc(64 * 1024);
          })(),
        ),
        req,
      ).catch(() => undefined);
    });
    expect(outcome).not.toBe("complete 200");
  });

  it("the metadata API lists the crypto component", async () => {
    const doc = (await (
      await fetch(`${s.url}/v1.0/metadata`, { headers: { "dapr-api-token": TOKEN } })
    ).json()) as { components: { name: string; type: string; version: string }[] };
    expect(doc.components).toContainEqual(
      expect.objectContaining({
        name: "localstorage",
        type: "crypto.dapr.localstorage",
        version: "v1",
      }),
    );
  });

  it("a body over max-body-size is 413 (declared length)", async () => {
    const res = await put("encrypt", Buffer.alloc(1024 * 1024 + 1), {
      "dapr-key-name": "symmetric-key-256",
      "dapr-key-wrap-algorithm": "A256KW",
    });
    expect(res.status).toBe(413);
  });

  it("what the sidecar seals opens in process with the same key folder, and the other way", async () => {
    const local = await createLocalStorageCrypto({ path: keys });
    const plain = randomBytes(70_000);
    const sealedHere = await sealEnvelope(Readable.from([plain]), {
      keyName: "rsa-private-key.pem",
      algorithm: "RSA-OAEP-256",
      wrapKey: (key, algorithm, keyName) => local.wrapKey({ key, algorithm, keyName }),
    });
    const parts: Buffer[] = [];
    for await (const c of sealedHere) parts.push(c);
    expect((await ok(await put("decrypt", Buffer.concat(parts), {}))).equals(plain)).toBe(true);
    const sealedThere = await ok(
      await put("encrypt", plain, {
        "dapr-key-name": "symmetric-key-256",
        "dapr-key-wrap-algorithm": "AES",
      }),
    );
    const opened = await openEnvelope(Readable.from([sealedThere]), {
      unwrapKey: (wrappedKey, algorithm, keyName) =>
        local.unwrapKey({ wrappedKey, algorithm, keyName }),
    });
    const out: Buffer[] = [];
    for await (const c of opened) out.push(c);
    expect(Buffer.concat(out).equals(plain)).toBe(true);
  });

  it("dapr-omit-decryption-key-name: decrypting then needs dapr-key-name; dapr-decryption-key-name is recorded", async () => {
    const plain = Buffer.from("no key name inside");
    const sealed = await ok(
      await put("encrypt", plain, {
        "dapr-key-name": "symmetric-key-256",
        "dapr-key-wrap-algorithm": "A256KW",
        "dapr-omit-decryption-key-name": "yes",
        "dapr-decryption-key-name": "ignored-when-omitted",
      }),
    );
    expect(sealed.toString("latin1").split("\n")[1]).not.toContain('"k"');
    const missing = await errorOf(await put("decrypt", sealed, {}));
    expect(missing).toMatchObject({ status: 500, errorCode: "ERR_CRYPTO" });
    expect(missing.message).toContain("does not contain a key name");
    const back = await ok(await put("decrypt", sealed, { "dapr-key-name": "symmetric-key-256" }));
    expect(back.equals(plain)).toBe(true);
    const named = await ok(
      await put("encrypt", plain, {
        "dapr-key-name": "symmetric-key-256",
        "dapr-key-wrap-algorithm": "A256KW",
        "dapr-decryption-key-name": "symmetric-key-256/v2",
      }),
    );
    expect(JSON.parse(named.toString("latin1").split("\n")[1] as string).k).toBe(
      "symmetric-key-256/v2",
    );
  });

  it("bad requests are Dapr's errors", async () => {
    const headers = { "dapr-key-name": "symmetric-key-256", "dapr-key-wrap-algorithm": "A256KW" };
    const body = Buffer.from("x");
    expect(await errorOf(await put("encrypt", body, headers, bare))).toMatchObject({
      status: 500,
      errorCode: "ERR_CRYPTO_PROVIDERS_NOT_CONFIGURED",
      message: "crypto providers not configured",
    });
    expect(await errorOf(await put("encrypt", body, headers, s, "nope"))).toMatchObject({
      status: 400,
      errorCode: "ERR_CRYPTO_PROVIDER_NOT_FOUND",
      message: "crypto provider nope not found",
    });
    expect(
      await errorOf(await put("encrypt", body, { "dapr-key-wrap-algorithm": "A256KW" })),
    ).toMatchObject({
      status: 400,
      errorCode: "ERR_BAD_REQUEST",
      message: "invalid request: missing header 'dapr-key-name'",
    });
    expect(await errorOf(await put("encrypt", body, { "dapr-key-name": "k" }))).toMatchObject({
      status: 400,
      message: "invalid request: missing header 'dapr-key-wrap-algorithm'",
    });
    const badAlg = await errorOf(
      await put("encrypt", body, { ...headers, "dapr-key-wrap-algorithm": "A128CBC" }),
    );
    expect(badAlg).toMatchObject({ status: 500, errorCode: "ERR_CRYPTO" });
    expect(badAlg.message).toContain("key wrap algorithm A128CBC is not supported");
    const noKey = await errorOf(
      await put("encrypt", body, { ...headers, "dapr-key-name": "missing-key" }),
    );
    expect(noKey.message).toMatch(
      /failed to perform operation: failed to wrap the file key: .*no such key/,
    );
    const wrongType = await errorOf(
      await put("encrypt", body, { ...headers, "dapr-key-wrap-algorithm": "RSA" }),
    );
    expect(wrongType.message).toContain("it needs an RSA key");
    const post = await fetch(`${s.url}/v1.0-alpha1/crypto/localstorage/encrypt`, {
      method: "POST",
      headers: { "dapr-api-token": TOKEN },
    });
    expect(post.status).toBe(405);
  });

  it("a wrong key or an altered document fails with ERR_CRYPTO and no plaintext", async () => {
    const plain = Buffer.from("guarded");
    const sealed = await ok(
      await put("encrypt", plain, {
        "dapr-key-name": "symmetric-key-256",
        "dapr-key-wrap-algorithm": "A256KW",
      }),
    );
    const wrong = await errorOf(await put("decrypt", sealed, { "dapr-key-name": "other-key-256" }));
    expect(wrong).toMatchObject({ status: 500, errorCode: "ERR_CRYPTO" });
    expect(wrong.message).toContain("failed to validate the document's signature");
    const altered = Buffer.from(sealed);
    altered[altered.length - 3] = (altered[altered.length - 3] as number) ^ 1;
    const bad = await errorOf(await put("decrypt", altered, {}));
    expect(bad).toMatchObject({ status: 500, errorCode: "ERR_CRYPTO" });
    expect(bad.message).toContain("failed to decrypt segment 0");
    const notOurs = await errorOf(await put("decrypt", Buffer.from("hello"), {}));
    expect(notOurs.message).toContain("invalid header");
  });
});

describe("crypto component calls are measured as daprd's", () => {
  it("dapr_component_crypto_count counts wrap_key and unwrap_key by success", async () => {
    const text = await (await fetch(`http://127.0.0.1:${s.metricsPort}/metrics`)).text();
    const count = (operation: string, success: string) =>
      Number(
        new RegExp(
          `dapr_component_crypto_count\\{[^}]*component="localstorage"[^}]*operation="${operation}"[^}]*success="${success}"[^}]*\\} (\\d+)`,
        ).exec(text)?.[1] ?? 0,
      );
    expect(count("wrap_key", "true")).toBeGreaterThan(0);
    expect(count("unwrap_key", "true")).toBeGreaterThan(0);
    expect(count("wrap_key", "false")).toBeGreaterThan(0); // the missing and wrong-type keys
  });
});

describe("gRPC EncryptAlpha1 / DecryptAlpha1", () => {
  it("the @dapr/dapr SDK encrypts and decrypts a message (the quickstart's first step)", async () => {
    const message = 'The secret is "passw0rd"';
    const encrypted = await client.crypto.encrypt(message, {
      componentName: "localstorage",
      keyName: "rsa-private-key.pem",
      keyWrapAlgorithm: "RSA",
    });
    expect(encrypted.toString("latin1").startsWith("dapr.io/enc/v1\n")).toBe(true);
    const decrypted = await client.crypto.decrypt(encrypted, { componentName: "localstorage" });
    expect(decrypted.toString("utf8")).toBe(message);
  });

  it("the SDK's streams carry a 300 KiB file both ways (the quickstart's second step), and HTTP opens it", async () => {
    const file = randomBytes(300 * 1024);
    const collect = async (stream: NodeJS.ReadableStream): Promise<Buffer> => {
      const parts: Buffer[] = [];
      for await (const c of stream) parts.push(Buffer.from(c as Buffer));
      return Buffer.concat(parts);
    };
    const enc = await client.crypto.encrypt({
      componentName: "localstorage",
      keyName: "symmetric-key-256",
      keyWrapAlgorithm: "A256KW",
      dataEncryptionCipher: "chacha20-poly1305",
    });
    const [sealed] = await Promise.all([
      collect(enc),
      pipeline(Readable.from([file.subarray(0, 150_000), file.subarray(150_000)]), enc),
    ]);
    expect((await ok(await put("decrypt", sealed, {}))).equals(file)).toBe(true);
    const dec = await client.crypto.decrypt({ componentName: "localstorage" });
    const [opened] = await Promise.all([collect(dec), pipeline(Readable.from([sealed]), dec)]);
    expect(opened.equals(file)).toBe(true);
  });

  /** One raw stream: sends the messages, returns the responses or the error. */
  async function rawCall(
    method: "EncryptAlpha1" | "DecryptAlpha1",
    messages: object[],
    token: string | null = TOKEN,
  ): Promise<{ data: Buffer; error: grpc.ServiceError | undefined }> {
    const metadata = new grpc.Metadata();
    if (token) metadata.set("dapr-api-token", token);
    const call = (
      raw[method] as unknown as (
        m: grpc.Metadata,
      ) => grpc.ClientDuplexStream<object, { payload: { data: Buffer; seq: string } }>
    ).call(raw, metadata);
    const parts: Buffer[] = [];
    const done = new Promise<grpc.ServiceError | undefined>((resolve) => {
      call.on("data", (m: { payload: { data: Buffer; seq: string } }) =>
        parts.push(m.payload.data),
      );
      call.on("error", (e: grpc.ServiceError) => resolve(e));
      call.on("end", () => resolve(undefined));
    });
    for (const m of messages) call.write(m);
    call.end();
    const error = await done;
    return { data: Buffer.concat(parts), error };
  }

  it("bad streams are refused as daprd does: options first, seq from 0, known component, token", async () => {
    const options = {
      componentName: "localstorage",
      keyName: "symmetric-key-256",
      keyWrapAlgorithm: "A256KW",
    };
    const payload = (seq: number) => ({ data: Buffer.from("abc"), seq: String(seq) });
    const noOptions = await rawCall("EncryptAlpha1", [{ payload: payload(0) }]);
    expect(noOptions.error?.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(noOptions.error?.details).toBe(
      "invalid request: first message does not contain the required options",
    );
    const badSeq = await rawCall("EncryptAlpha1", [
      { options, payload: payload(0) },
      { payload: payload(2) },
    ]);
    expect(badSeq.error?.details).toContain("invalid sequence number received: 2 (expected: 1)");
    const late = await rawCall("EncryptAlpha1", [
      { options, payload: payload(0) },
      { options, payload: payload(1) },
    ]);
    expect(late.error?.details).toContain("options found in non-leading message");
    const unknown = await rawCall("DecryptAlpha1", [{ options: { componentName: "nope" } }]);
    expect(unknown.error?.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(unknown.error?.details).toBe("crypto provider nope not found");
    const noKey = await rawCall("EncryptAlpha1", [
      { options: { componentName: "localstorage", keyWrapAlgorithm: "AES" } },
    ]);
    expect(noKey.error?.details).toBe(
      "invalid request: missing property 'keyName' in the options message",
    );
    const noToken = await rawCall("EncryptAlpha1", [{ options, payload: payload(0) }], null);
    expect(noToken.error?.code).toBe(grpc.status.UNAUTHENTICATED);
    const good = await rawCall("EncryptAlpha1", [
      { options, payload: payload(0) },
      { payload: payload(1) },
    ]);
    expect(good.error).toBeUndefined();
    const back = await rawCall("DecryptAlpha1", [
      { options: { componentName: "localstorage" }, payload: { data: good.data, seq: "0" } },
    ]);
    expect(back.data.toString()).toBe("abcabc");
    const altered = Buffer.from(good.data);
    altered[altered.length - 1] = (altered[altered.length - 1] as number) ^ 1;
    const tampered = await rawCall("DecryptAlpha1", [
      { options: { componentName: "localstorage" }, payload: { data: altered, seq: "0" } },
    ]);
    expect(tampered.error?.code).toBe(grpc.status.INTERNAL);
    expect(tampered.error?.details).toContain("failed to decrypt segment 0");
    expect(tampered.data.length).toBe(0);
  });
});
