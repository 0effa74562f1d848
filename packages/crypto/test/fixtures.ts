import { generateKeyPairSync, randomBytes } from "node:crypto";
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** A keys folder as Dapr's crypto quickstart makes one, plus the other formats Dapr reads. */
export async function keysFolder(): Promise<{
  dir: string;
  rsa: { publicKey: string; privateKey: string };
  symmetric: Buffer;
}> {
  const dir = await mkdtemp(join(tmpdir(), "outrig-crypto-keys-"));
  const rsa = generateKeyPairSync("rsa", {
    modulusLength: 2048,
    publicKeyEncoding: { type: "spki", format: "pem" },
    privateKeyEncoding: { type: "pkcs8", format: "pem" },
  });
  const other = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const symmetric = randomBytes(32);
  // openssl genpkey -algorithm RSA -out keys/rsa-private-key.pem; openssl rand -out keys/symmetric-key-256 32
  await writeFile(join(dir, "rsa-private-key.pem"), rsa.privateKey);
  await writeFile(join(dir, "symmetric-key-256"), symmetric);
  await writeFile(join(dir, "rsa-public-key.pem"), rsa.publicKey);
  await writeFile(
    join(dir, "other-rsa.json"),
    JSON.stringify(other.privateKey.export({ format: "jwk" })),
  );
  await writeFile(join(dir, "other-symmetric.b64"), `${randomBytes(32).toString("base64")}\n`);
  return { dir, rsa, symmetric };
}
