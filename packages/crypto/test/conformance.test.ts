import { generateKeyPairSync, randomBytes } from "node:crypto";
import { writeFile } from "node:fs/promises";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { describeCryptoProviderConformance } from "@outrig/conformance";
import { afterAll, beforeAll } from "vitest";
import { createJwksCrypto, createLocalStorageCrypto } from "../src/index.ts";
import { keysFolder } from "./fixtures.ts";

const folder = await keysFolder();

describeCryptoProviderConformance({
  name: "crypto.dapr.localstorage (quickstart keys, PEM, JWK, raw and base64 files)",
  create: () => createLocalStorageCrypto({ path: folder.dir }),
  keys: {
    symmetric: "symmetric-key-256",
    otherSymmetric: "other-symmetric.b64",
    rsa: "rsa-private-key.pem",
    otherRsa: "other-rsa.json",
    rsaPublic: "rsa-public-key.pem",
  },
});

function jwks(): string {
  const rsa = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const other = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const oct = (kid: string) => ({ kty: "oct", kid, k: randomBytes(32).toString("base64url") });
  return JSON.stringify({
    keys: [
      oct("sym"),
      oct("sym2"),
      { ...rsa.privateKey.export({ format: "jwk" }), kid: "rsa" },
      { ...other.privateKey.export({ format: "jwk" }), kid: "rsa2" },
      { ...rsa.publicKey.export({ format: "jwk" }), kid: "rsa-pub", use: "enc" },
    ],
  });
}
const keys = {
  symmetric: "sym",
  otherSymmetric: "sym2",
  rsa: "rsa",
  otherRsa: "rsa2",
  rsaPublic: "rsa-pub",
};

const inline = jwks();
describeCryptoProviderConformance({
  name: "crypto.dapr.jwks (inline, base64)",
  create: () => createJwksCrypto({ jwks: Buffer.from(inline).toString("base64") }),
  keys,
});

const file = join(folder.dir, "jwks.json");
await writeFile(file, jwks());
describeCryptoProviderConformance({
  name: "crypto.dapr.jwks (file)",
  create: () => createJwksCrypto({ jwks: file }),
  keys,
});

const served = jwks();
const server = createServer((_req, res) => {
  res.writeHead(200, { "content-type": "application/json" });
  res.end(served);
});
beforeAll(() => new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve)));
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));
describeCryptoProviderConformance({
  name: "crypto.dapr.jwks (URL on loopback)",
  create: () =>
    createJwksCrypto({
      jwks: `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks.json`,
      requestTimeout: "2s",
    }),
  keys,
});
