import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);

/** PEM material for one test run: a CA, a server and a client certificate it signed, and a stranger CA. */
export interface TestCertificates {
  /** The CA that signed `serverCert` and `clientCert`. */
  readonly caCert: string;
  /** A server certificate for `serverNames` (default `localhost` and `127.0.0.1`). */
  readonly serverCert: string;
  readonly serverKey: string;
  /** A client certificate with the common name `clientName`. */
  readonly clientCert: string;
  readonly clientKey: string;
  readonly clientName: string;
  /** A CA that signed nothing here: trusting only it must make every TLS handshake fail. */
  readonly otherCaCert: string;
}

/**
 * Makes fresh certificates with the `openssl` command (ECDSA P-256, valid for two days), so no key
 * is ever committed. The CLI rather than an npm library: Debian machines (and CI) have it, it
 * needs no global polyfill (`@peculiar/x509` needs a Reflect one), and what it writes is what
 * every broker's documentation shows.
 */
export async function makeTestCertificates(
  options: {
    clientName?: string;
    /** The server certificate's names (DNS names and IP addresses); default localhost and 127.0.0.1. */
    serverNames?: string[];
  } = {},
): Promise<TestCertificates> {
  const clientName = options.clientName ?? "outrig-client";
  const serverNames = (options.serverNames ?? ["localhost", "127.0.0.1"])
    .map((name) => (/^[\d.]+$|:/.test(name) ? `IP:${name}` : `DNS:${name}`))
    .join(",");
  const dir = await mkdtemp(join(tmpdir(), "outrig-tls-"));
  const file = (name: string) => join(dir, name);
  const openssl = async (...args: string[]) => {
    try {
      await run("openssl", args, { cwd: dir, timeout: 30_000 });
    } catch (error) {
      const detail = (error as { stderr?: string }).stderr?.trim() || (error as Error).message;
      throw new Error(`openssl ${args[0]} failed (is Debian's openssl installed?): ${detail}`, {
        cause: error,
      });
    }
  };
  const key = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"];
  const ca = async (name: string, cn: string) =>
    openssl(
      "req",
      "-x509",
      ...key,
      "-keyout",
      `${name}.key`,
      "-out",
      `${name}.crt`,
      "-days",
      "2",
      "-subj",
      `/CN=${cn}`,
    );
  const leaf = async (name: string, cn: string, extensions: string) => {
    await openssl(
      "req",
      "-new",
      ...key,
      "-keyout",
      `${name}.key`,
      "-out",
      `${name}.csr`,
      "-subj",
      `/CN=${cn}`,
    );
    await writeFile(file(`${name}.ext`), extensions);
    await openssl(
      "x509",
      "-req",
      "-in",
      `${name}.csr`,
      "-CA",
      "ca.crt",
      "-CAkey",
      "ca.key",
      "-days",
      "2",
      "-set_serial",
      `0x${Date.now().toString(16)}${name === "server" ? "1" : "2"}`,
      "-extfile",
      `${name}.ext`,
      "-out",
      `${name}.crt`,
    );
  };
  try {
    await ca("ca", "outrig test CA");
    await ca("other", "outrig stranger CA");
    await leaf(
      "server",
      "localhost",
      `subjectAltName=${serverNames}\nextendedKeyUsage=serverAuth\nkeyUsage=digitalSignature\n`,
    );
    await leaf("client", clientName, "extendedKeyUsage=clientAuth\nkeyUsage=digitalSignature\n");
    const read = (name: string) => readFile(file(name), "utf8");
    return {
      caCert: await read("ca.crt"),
      serverCert: await read("server.crt"),
      serverKey: await read("server.key"),
      clientCert: await read("client.crt"),
      clientKey: await read("client.key"),
      clientName,
      otherCaCert: await read("other.crt"),
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
