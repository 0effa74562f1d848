import { pingPostgres } from "./probes.ts";
import { hostAndPort, startContainer, useExternal } from "./service.ts";
import type { PostgresService, StartServiceOptions } from "./types.ts";

const OVERRIDE = "OUTRIG_TEST_POSTGRES_URL";
const USER = "postgres";
const PASSWORD = "outrig";
const DATABASE = "outrig";

/**
 * PostgreSQL 15 in a container (user `postgres`, password `outrig`, database `outrig`), or the
 * one `OUTRIG_TEST_POSTGRES_URL` names (`postgres://user:password@host:port/database`).
 */
export async function startPostgres(options: StartServiceOptions = {}): Promise<PostgresService> {
  const override = options.container ? undefined : process.env[OVERRIDE];
  if (override) {
    const url = new URL(override);
    const { host, port } = hostAndPort(override, 5432);
    const user = decodeURIComponent(url.username) || "postgres";
    const database = decodeURIComponent(url.pathname.slice(1)) || user;
    const base = await useExternal(
      "postgres",
      OVERRIDE,
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
      name: "postgres",
      containerPort: 5432,
      environment: () => ({
        POSTGRES_USER: USER,
        POSTGRES_PASSWORD: PASSWORD,
        POSTGRES_DB: DATABASE,
      }),
      probe: (host, port) => pingPostgres(host, port, USER, DATABASE),
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
