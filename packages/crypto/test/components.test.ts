import { randomBytes } from "node:crypto";
import { writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import {
  createJwksCrypto,
  createLocalStorageCrypto,
  parseKey,
  unwrapWith,
  wrapWith,
} from "../src/index.ts";
import { keysFolder } from "./fixtures.ts";

const folder = await keysFolder();

describe("key wrapping", () => {
  it("A256KW matches RFC 3394 §4.6 (256-bit key data, 256-bit KEK)", () => {
    const kek = parseKey(
      Buffer.from("000102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F", "hex"),
      undefined,
    );
    const data = Buffer.from(
      "00112233445566778899AABBCCDDEEFF000102030405060708090A0B0C0D0E0F",
      "hex",
    );
    const wrapped = wrapWith(kek, "kek", "A256KW", data);
    expect(wrapped.toString("hex").toUpperCase()).toBe(
      "28C9F404C4B810F4CBCCB35CFB87F8263F5786E2D80ED326CBC7F0E71A99F43BFB988B9B7A02DD21",
    );
    expect(unwrapWith(kek, "kek", "A256KW", wrapped).equals(data)).toBe(true);
  });

  it("AES-CBC wrapping is refused by name: the scheme carries no IV (daprd fails it too)", () => {
    const kek = parseKey(randomBytes(32), undefined);
    expect(() => wrapWith(kek, "k", "A256CBC-NOPAD", randomBytes(32))).toThrow(
      /A256CBC-NOPAD needs an IV, which the dapr.io\/enc\/v1 scheme does not carry/,
    );
  });

  it("a JWK's key_ops, use and alg restrict it as Dapr's engine does", () => {
    const k = randomBytes(32).toString("base64url");
    const wrapOnly = parseKey(
      Buffer.from(JSON.stringify({ kty: "oct", k, key_ops: ["wrapKey"] })),
      "jwk",
    );
    const wrapped = wrapWith(wrapOnly, "w", "A256KW", randomBytes(32));
    expect(() => unwrapWith(wrapOnly, "w", "A256KW", wrapped)).toThrow(
      /cannot perform the 'unwrapKey' operation/,
    );
    const sig = parseKey(Buffer.from(JSON.stringify({ kty: "oct", k, use: "sig" })), "jwk");
    expect(() => wrapWith(sig, "s", "A256KW", randomBytes(32))).toThrow(
      /cannot perform the 'wrapKey'/,
    );
    const other = parseKey(Buffer.from(JSON.stringify({ kty: "oct", k, alg: "A128KW" })), "jwk");
    expect(() => wrapWith(other, "a", "A256KW", randomBytes(32))).toThrow(
      /cannot be used with algorithm 'A256KW'/,
    );
  });

  it("symmetric key files: raw bytes, base64 and base64url as Dapr reads them", () => {
    const raw = randomBytes(32);
    expect((parseKey(raw, undefined) as { bytes: Buffer }).bytes.equals(raw)).toBe(true);
    const b64 = Buffer.from(`${raw.toString("base64")}\n`);
    expect((parseKey(b64, undefined) as { bytes: Buffer }).bytes.equals(raw)).toBe(true);
    const url = Buffer.from(raw.toString("base64url"));
    expect((parseKey(url, undefined) as { bytes: Buffer }).bytes.equals(raw)).toBe(true);
  });
});

describe("crypto.dapr.localstorage", () => {
  it("reads the quickstart's files by name and never a path outside the folder", async () => {
    const c = await createLocalStorageCrypto({ path: folder.dir });
    const jwk = await c.getKey("rsa-private-key.pem");
    expect(jwk).toMatchObject({ kty: "RSA", e: "AQAB" });
    await expect(c.getKey("../etc/passwd")).rejects.toMatchObject({
      code: "ERR_INVALID_REQUEST",
      message: expect.stringContaining("cannot contain '..'"),
    });
    await expect(c.getKey("missing")).rejects.toMatchObject({ code: "ERR_NOT_FOUND" });
    await c.close();
    await expect(c.getKey("rsa-private-key.pem")).rejects.toMatchObject({ code: "ERR_CLOSED" });
  });

  it("refuses a missing path or one that is not a folder, naming the field", async () => {
    await expect(createLocalStorageCrypto({})).rejects.toMatchObject({
      code: "ERR_CONFIG_INVALID",
    });
    await expect(
      createLocalStorageCrypto({ path: join(folder.dir, "symmetric-key-256") }),
    ).rejects.toThrow(/path: path '.*symmetric-key-256' is not a directory/);
    await expect(createLocalStorageCrypto({ path: join(folder.dir, "nope") })).rejects.toThrow(
      /could not stat path/,
    );
  });
});

describe("crypto.dapr.jwks", () => {
  const servers: Server[] = [];
  afterAll(() => Promise.all(servers.map((s) => new Promise((r) => s.close(r)))));
  const serve = async (handler: Parameters<typeof createServer>[1]): Promise<string> => {
    const s = createServer(handler);
    servers.push(s);
    await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
    return `http://127.0.0.1:${(s.address() as AddressInfo).port}/jwks`;
  };
  const oct = (kid: string) => ({ kty: "oct", kid, k: randomBytes(32).toString("base64url") });

  it("a URL that does not answer fails the start within requestTimeout, naming it", async () => {
    const url = await serve(() => undefined);
    const began = Date.now();
    await expect(createJwksCrypto({ jwks: url, requestTimeout: "300ms" })).rejects.toMatchObject({
      code: "ERR_TIMEOUT",
      message: expect.stringContaining("no answer within 300ms (requestTimeout)"),
    });
    expect(Date.now() - began).toBeLessThan(5_000);
  });

  it("a kid missing from a URL's set refetches it once minRefreshInterval has passed", async () => {
    let set = { keys: [oct("a")] };
    let fetches = 0;
    const url = await serve((_req, res) => {
      fetches++;
      res.end(JSON.stringify(set));
    });
    const c = await createJwksCrypto({ jwks: url, minRefreshInterval: "1s" });
    set = { keys: [oct("a"), oct("b")] };
    await expect(
      c.wrapKey({ key: randomBytes(32), algorithm: "A256KW", keyName: "b" }),
    ).rejects.toMatchObject({
      code: "ERR_NOT_FOUND",
    });
    expect(fetches).toBe(1);
    await new Promise((r) => setTimeout(r, 1100));
    await expect(
      c.wrapKey({ key: randomBytes(32), algorithm: "A256KW", keyName: "b" }),
    ).resolves.toHaveLength(40);
    expect(fetches).toBe(2);
    await c.close();
  });

  it("a file's set is read again when the file changed", async () => {
    const file = join(folder.dir, "rotating.json");
    await writeFile(file, JSON.stringify({ keys: [oct("a")] }));
    const c = await createJwksCrypto({ jwks: file });
    await new Promise((r) => setTimeout(r, 20));
    await writeFile(file, JSON.stringify({ keys: [oct("a"), oct("new")] }));
    await expect(
      c.wrapKey({ key: randomBytes(32), algorithm: "A256KW", keyName: "new" }),
    ).resolves.toHaveLength(40);
  });

  it("refuses an inline value that is no JWKS, and a set larger than 1 MiB", async () => {
    await expect(createJwksCrypto({ jwks: '{"nokeys":1}' })).rejects.toThrow(
      /jwks: not a URL, a path to a local file, or a JWKS/,
    );
    const url = await serve((_req, res) => res.end(Buffer.alloc(2 * 1024 * 1024, 0x20)));
    await expect(createJwksCrypto({ jwks: url })).rejects.toThrow(/larger than 1048576 bytes/);
  });
});
