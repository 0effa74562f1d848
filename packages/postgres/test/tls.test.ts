import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  makeTestCertificates,
  type PostgresService,
  startPostgres,
} from "@outrig/conformance/services";
import { ComponentError } from "@outrig/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  createPostgresStateStore,
  createPostgresV2StateStore,
  type PostgresStateStore,
} from "../src/index.ts";

// One PostgreSQL with ssl=on; the role `mtls` must present a client certificate. Certificates
// are made for this run and handed to libpq-style sslrootcert/sslcert/sslkey as files.
let postgres: PostgresService;
let dir: string;
const files = { ca: "", other: "", cert: "", key: "" };
const MTLS_PASSWORD = "mtls-secret-9f2";

beforeAll(async () => {
  // Named localhost only, so 127.0.0.1 tells verify-ca (chain) from verify-full (chain and name).
  const certs = await makeTestCertificates({ serverNames: ["localhost"] });
  [postgres, dir] = await Promise.all([
    startPostgres({ tls: certs }),
    mkdtemp(join(tmpdir(), "outrig-pg-tls-")),
  ]);
  for (const [name, content] of [
    ["ca", certs.caCert],
    ["other", certs.otherCaCert],
    ["cert", certs.clientCert],
    ["key", certs.clientKey],
  ] as const) {
    files[name] = join(dir, `${name}.pem`);
    await writeFile(files[name], content, { mode: 0o600 });
  }
  const admin = await open(`sslmode=require`);
  await admin.pool.query(`CREATE ROLE mtls LOGIN SUPERUSER PASSWORD '${MTLS_PASSWORD}'`);
  await admin.close();
});
afterAll(async () => {
  await postgres?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** A state store on the TLS server; `extra` is libpq keyword/value settings. */
function open(extra: string, user = "postgres", password = postgres.password, host = "localhost") {
  return createPostgresStateStore({
    connectionString: `host=${host} port=${postgres.port} user=${user} password=${password} dbname=${postgres.database} connect_timeout=5 ${extra}`,
  });
}

async function tlsOf(
  store: PostgresStateStore,
): Promise<{ ssl: boolean; client_dn: string | null }> {
  const { rows } = await store.pool.query(
    "SELECT ssl, client_dn FROM pg_stat_ssl WHERE pid = pg_backend_pid()",
  );
  await store.close();
  return rows[0];
}

async function failure(promise: Promise<PostgresStateStore>): Promise<ComponentError> {
  const outcome = await promise.then(
    async (store) => {
      await store.close();
      return undefined;
    },
    (error: unknown) => error,
  );
  expect(outcome).toBeInstanceOf(ComponentError);
  return outcome as ComponentError;
}

describe("state.postgresql over TLS", () => {
  it("sslmode=require encrypts without a CA; disable does not", async () => {
    expect((await tlsOf(await open("sslmode=require"))).ssl).toBe(true);
    expect((await tlsOf(await open("sslmode=disable"))).ssl).toBe(false);
  });

  it("verify-full and verify-ca accept the right sslrootcert, in keyword and URL form", async () => {
    expect((await tlsOf(await open(`sslmode=verify-full sslrootcert=${files.ca}`))).ssl).toBe(true);
    expect(
      (
        await tlsOf(
          await open(
            `sslmode=verify-ca sslrootcert=${files.ca}`,
            undefined,
            undefined,
            "127.0.0.1",
          ),
        )
      ).ssl,
    ).toBe(true);
    const url = `postgres://postgres:${postgres.password}@localhost:${postgres.port}/${postgres.database}?sslmode=verify-full&sslrootcert=${encodeURIComponent(files.ca)}`;
    expect((await tlsOf(await createPostgresStateStore({ connectionString: url }))).ssl).toBe(true);
    // The certificate does not name 127.0.0.1: verify-ca (above) does not care, verify-full does.
    const error = await failure(
      open(`sslmode=verify-full sslrootcert=${files.ca}`, undefined, undefined, "127.0.0.1"),
    );
    expect(error.message).toContain(`127.0.0.1:${postgres.port}`);
    expect(error.message).toMatch(/TLS handshake failed.*(altnames|ALTNAME)/);
  });

  it("refuses a server its sslrootcert did not sign, naming host:port and not the password", async () => {
    for (const mode of ["verify-full", "require"]) {
      const error = await failure(open(`sslmode=${mode} sslrootcert=${files.other}`));
      expect(error.code).toBe("ERR_UNAVAILABLE");
      expect(error.message).toContain(`localhost:${postgres.port}`);
      expect(error.message).toMatch(/TLS handshake failed.*certificate/i);
      expect(error.message).not.toContain(postgres.password);
    }
  });

  it("authenticates with a client certificate (sslcert/sslkey) where the server requires one", async () => {
    const certified = await tlsOf(
      await open(
        `sslmode=verify-full sslrootcert=${files.ca} sslcert=${files.cert} sslkey=${files.key}`,
        "mtls",
        MTLS_PASSWORD,
      ),
    );
    expect(certified).toEqual({ ssl: true, client_dn: "/CN=outrig-client" });
    const error = await failure(
      open(`sslmode=verify-full sslrootcert=${files.ca}`, "mtls", MTLS_PASSWORD),
    );
    expect(error.code).toBe("ERR_UNAVAILABLE");
    expect(error.message).toContain(`localhost:${postgres.port}`);
    expect(error.message).toMatch(/certificate/);
    expect(error.message).not.toContain(MTLS_PASSWORD);
  });

  it("state.postgresql v2 names host:port for a refused certificate too", async () => {
    const connectionString = (ca: string) =>
      `host=localhost port=${postgres.port} user=postgres password=${postgres.password} dbname=${postgres.database} sslmode=verify-full sslrootcert=${ca}`;
    const error = await createPostgresV2StateStore({
      connectionString: connectionString(files.other),
    }).then(
      async (s) => {
        await s.close();
        return undefined;
      },
      (e: unknown) => e as ComponentError,
    );
    expect(error?.message).toContain(`localhost:${postgres.port}`);
    expect(error?.message).toMatch(/TLS handshake failed/);
    expect(error?.message).not.toContain(postgres.password);
  });

  it("reports a wrong password as ERR_UNAVAILABLE without echoing it", async () => {
    const error = await failure(
      open(`sslmode=verify-full sslrootcert=${files.ca}`, "postgres", "wrong-pw-71c"),
    );
    expect(error.code).toBe("ERR_UNAVAILABLE");
    expect(error.message).toContain(`localhost:${postgres.port}`);
    expect(error.message).toMatch(/password authentication failed/);
    expect(error.message).not.toContain("wrong-pw-71c");
  });

  it("rejects an unreadable sslrootcert and an unknown sslmode by name", async () => {
    await expect(
      open(`sslmode=verify-full sslrootcert=${join(dir, "missing.pem")}`),
    ).rejects.toThrow(/sslrootcert: cannot read/);
    await expect(open("sslmode=sometimes")).rejects.toThrow(/unknown sslmode "sometimes"/);
  });
});
