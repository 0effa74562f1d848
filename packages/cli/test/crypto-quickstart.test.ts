import { execFileSync } from "node:child_process";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import { CliProcess, tempHome } from "./helpers.ts";

// Dapr's cryptography quickstart with `outrig run`: keys made by openssl as the quickstart makes
// them, a crypto.dapr.localstorage component on that folder, and an unmodified @dapr/dapr app.
const quiet: { stdio: ("ignore" | "pipe")[] } = { stdio: ["ignore", "ignore", "pipe"] };
const fixtures = fileURLToPath(new URL("./fixtures/", import.meta.url));
const running: CliProcess[] = [];
const cleanups: (() => Promise<void>)[] = [];

afterEach(async () => {
  await Promise.all(running.splice(0).map((cli) => cli.stop()));
  await Promise.all(cleanups.splice(0).map((c) => c()));
});

describe("the cryptography quickstart", { timeout: 60_000 }, () => {
  it("encrypts and decrypts a message and a file through outrig run", async () => {
    const { home, cleanup } = await tempHome();
    cleanups.push(cleanup);
    const keys = join(home, "keys");
    await mkdir(keys, { recursive: true });
    // The quickstart uses 4096-bit RSA; 2048 keeps the test quick, the code path is the same.
    execFileSync(
      "openssl",
      [
        "genpkey",
        "-algorithm",
        "RSA",
        "-pkeyopt",
        "rsa_keygen_bits:2048",
        "-out",
        join(keys, "rsa-private-key.pem"),
      ],
      quiet,
    );
    execFileSync("openssl", ["rand", "-out", join(keys, "symmetric-key-256"), "32"], quiet);
    const resources = join(home, "components");
    await mkdir(resources, { recursive: true });
    await writeFile(
      join(resources, "localstorage.yaml"),
      `apiVersion: dapr.io/v1alpha1
kind: Component
metadata:
  name: localstorage
spec:
  type: crypto.dapr.localstorage
  version: v1
  metadata:
    - name: path
      value: ${JSON.stringify(keys)}
`,
    );
    const cli = new CliProcess(
      [
        "run",
        "--app-id",
        "crypto-quickstart",
        "--resources-path",
        resources,
        "--",
        process.execPath,
        join(fixtures, "crypto-app.mjs"),
        home,
      ],
      { home, cwd: fixtures },
    );
    running.push(cli);
    expect(await cli.exited, cli.output).toBe(0);
    const line = cli.output.match(/== APP == RESULT (.*)/);
    expect(line, cli.output).not.toBeNull();
    expect(JSON.parse((line as RegExpMatchArray)[1] as string)).toEqual({
      message: `The secret is "passw0rd"`,
      same: true,
      header: "dapr.io/enc/v1",
    });
  });
});
