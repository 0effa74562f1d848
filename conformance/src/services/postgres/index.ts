import { defineTestService } from "../definition.ts";
import { hostAndPort, startContainer, useExternal } from "../service.ts";
import type { TestCertificates } from "../tls.ts";
import type { ServiceHandle, StartServiceOptions } from "../types.ts";
import image from "./image/image.json" with { type: "json" };
import { pingPostgres } from "./probe.ts";

/** The postgres test service: its image (./image/image.json) and the variable that names a running one. */
export const postgresDefinition = defineTestService({
  name: "postgres",
  image,
  override: { variable: "OUTRIG_TEST_POSTGRES_URL", value: (service) => service.url },
});

const OVERRIDE = postgresDefinition.override.variable;

export interface PostgresService extends ServiceHandle {
  readonly name: "postgres";
  /** `postgres://user:password@host:port/database` */
  readonly connectionString: string;
  readonly user: string;
  readonly password: string;
  readonly database: string;
}

export interface PostgresStartOptions extends StartServiceOptions {
  /** Turns on TLS (same port) with these certificates; the role `mtls` then needs a client certificate. */
  tls?: TestCertificates;
}

const USER = "postgres";
const PASSWORD = "outrig";
const DATABASE = "outrig";

/**
 * `pg_hba.conf` of a TLS server: the role `mtls` must come over TLS with a client certificate the
 * CA signed; everyone else as in the image (password, TLS or not).
 */
const TLS_HBA = `local all all trust
hostssl all mtls all scram-sha-256 clientcert=verify-ca
hostnossl all mtls all reject
host all all all scram-sha-256
`;

/**
 * PostgreSQL 15 in a container (user `postgres`, password `outrig`, database `outrig`), or the
 * one `OUTRIG_TEST_POSTGRES_URL` names (`postgres://user:password@host:port/database`). With
 * `tls` it is always a container with `ssl=on` (on the same port) and the `pg_hba.conf` above; the
 * role `mtls` is for the test to create.
 */
export async function startPostgres(options: PostgresStartOptions = {}): Promise<PostgresService> {
  const override = options.container || options.tls ? undefined : process.env[OVERRIDE];
  if (override) {
    const url = new URL(override);
    const { host, port } = hostAndPort(override, 5432);
    const user = decodeURIComponent(url.username) || "postgres";
    const database = decodeURIComponent(url.pathname.slice(1)) || user;
    const base = await useExternal(
      postgresDefinition,
      host,
      port,
      (h, p) => pingPostgres(h, p, user, database),
      options.readyTimeoutMs,
    );
    return {
      ...base,
      name: "postgres",
      url: override,
      connectionString: override,
      user,
      password: decodeURIComponent(url.password),
      database,
    };
  }
  const base = await startContainer(
    {
      service: postgresDefinition,
      containerPort: 5432,
      environment: () => ({
        POSTGRES_USER: USER,
        POSTGRES_PASSWORD: PASSWORD,
        POSTGRES_DB: DATABASE,
      }),
      probe: (host, port) => pingPostgres(host, port, USER, DATABASE),
      ...(options.tls
        ? {
            files: [
              { content: options.tls.caCert, target: "/tls/ca.crt" },
              { content: options.tls.serverCert, target: "/tls/server.crt" },
              { content: options.tls.serverKey, target: "/tls/server.key", mode: 0o600 },
              { content: TLS_HBA, target: "/tls/pg_hba.conf" },
            ],
            // postgres wants its key owned by itself and private; the copy is root's.
            command: [
              "sh",
              "-c",
              "install -o postgres -g postgres -m 0600 /tls/server.key /var/run/postgresql/server.key && " +
                "exec outrig-entrypoint postgres -c ssl=on -c ssl_cert_file=/tls/server.crt " +
                "-c ssl_key_file=/var/run/postgresql/server.key -c ssl_ca_file=/tls/ca.crt " +
                "-c hba_file=/tls/pg_hba.conf",
            ],
          }
        : {}),
    },
    options,
  );
  const connectionString = `postgres://${USER}:${PASSWORD}@${base.host}:${base.port}/${DATABASE}`;
  return {
    ...base,
    name: "postgres",
    url: connectionString,
    connectionString,
    user: USER,
    password: PASSWORD,
    database: DATABASE,
  };
}
