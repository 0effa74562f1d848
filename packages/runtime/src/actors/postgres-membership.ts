import type pg from "pg";
import { openSharedPool } from "../scheduler/pg-pool.ts";
import {
  MEMBER_COLUMNS,
  type MembershipSnapshot,
  type MembershipStore,
  memberOfRow,
  type PlacementMember,
  typesText,
} from "./membership.ts";

const SCHEMA = `
CREATE TABLE IF NOT EXISTS outrig_actor_members (
  namespace TEXT COLLATE "C" NOT NULL,
  member_id TEXT COLLATE "C" NOT NULL,
  app_id TEXT NOT NULL,
  host TEXT NOT NULL,
  port INTEGER NOT NULL,
  types TEXT NOT NULL,
  lease_until BIGINT NOT NULL,
  drained BIGINT NOT NULL DEFAULT 0,
  PRIMARY KEY (namespace, member_id)
);
ALTER TABLE outrig_actor_members ADD COLUMN IF NOT EXISTS drained BIGINT NOT NULL DEFAULT 0;
CREATE TABLE IF NOT EXISTS outrig_actor_epochs (
  namespace TEXT PRIMARY KEY,
  epoch BIGINT NOT NULL
);
`;

/** Any fixed number: serialises concurrent first starts of the schema. */
const SCHEMA_LOCK = 0x0757_1a6f;

/**
 * Membership in PostgreSQL, beside the scheduler's jobs. Every change first locks the
 * namespace's epoch row (`SELECT ... FOR UPDATE`), so membership writes of all sidecars run one
 * after another and each epoch names exactly one set of rows. Lease times are the sidecars'
 * clocks (ms): keep them in sync (NTP) across machines.
 */
export class PostgresMembershipStore implements MembershipStore {
  readonly #pool: pg.Pool;
  readonly #namespace: string;

  private constructor(pool: pg.Pool, namespace: string) {
    this.#pool = pool;
    this.#namespace = namespace;
  }

  static async open(connectionString: string, namespace: string): Promise<PostgresMembershipStore> {
    const pool = await openSharedPool(
      connectionString,
      { max: 2, queryTimeoutMs: 5000 },
      SCHEMA,
      SCHEMA_LOCK,
    );
    return new PostgresMembershipStore(pool, namespace);
  }

  async #transaction<T>(fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    const client = await this.#pool.connect();
    try {
      await client.query("BEGIN");
      await client.query(
        "INSERT INTO outrig_actor_epochs (namespace, epoch) VALUES ($1, 0) ON CONFLICT DO NOTHING",
        [this.#namespace],
      );
      await client.query("SELECT epoch FROM outrig_actor_epochs WHERE namespace = $1 FOR UPDATE", [
        this.#namespace,
      ]);
      const out = await fn(client);
      await client.query("COMMIT");
      return out;
    } catch (error) {
      await client.query("ROLLBACK").catch(() => undefined);
      throw error;
    } finally {
      client.release();
    }
  }

  #bump(client: pg.PoolClient) {
    return client.query("UPDATE outrig_actor_epochs SET epoch = epoch + 1 WHERE namespace = $1", [
      this.#namespace,
    ]);
  }

  renew(member: PlacementMember, now: number, leaseUntil: number): Promise<MembershipSnapshot> {
    const ns = this.#namespace;
    const types = typesText(member.types);
    return this.#transaction(async (client) => {
      const expired = await client.query(
        "DELETE FROM outrig_actor_members WHERE namespace = $1 AND lease_until < $2 AND member_id <> $3",
        [ns, now, member.id],
      );
      let changed = (expired.rowCount ?? 0) > 0;
      const renewed = await client.query(
        `UPDATE outrig_actor_members SET lease_until = $1, drained = $8
         WHERE namespace = $2 AND member_id = $3 AND app_id = $4 AND host = $5 AND port = $6 AND types = $7`,
        [leaseUntil, ns, member.id, member.appId, member.host, member.port, types, member.drained],
      );
      if ((renewed.rowCount ?? 0) === 0) {
        await client.query(
          `INSERT INTO outrig_actor_members
             (namespace, member_id, app_id, host, port, types, lease_until, drained)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
           ON CONFLICT (namespace, member_id) DO UPDATE SET app_id = EXCLUDED.app_id,
             host = EXCLUDED.host, port = EXCLUDED.port, types = EXCLUDED.types,
             lease_until = EXCLUDED.lease_until, drained = EXCLUDED.drained`,
          [
            ns,
            member.id,
            member.appId,
            member.host,
            member.port,
            types,
            leaseUntil,
            member.drained,
          ],
        );
        changed = true;
      }
      if (changed) await this.#bump(client);
      const epoch = await client.query<{ epoch: string }>(
        "SELECT epoch FROM outrig_actor_epochs WHERE namespace = $1",
        [ns],
      );
      const rows = await client.query(
        `SELECT ${MEMBER_COLUMNS} FROM outrig_actor_members WHERE namespace = $1 ORDER BY member_id`,
        [ns],
      );
      return { epoch: Number(epoch.rows[0]?.epoch ?? 0), members: rows.rows.map(memberOfRow) };
    });
  }

  async leave(memberId: string): Promise<void> {
    await this.#transaction(async (client) => {
      const gone = await client.query(
        "DELETE FROM outrig_actor_members WHERE namespace = $1 AND member_id = $2",
        [this.#namespace, memberId],
      );
      if ((gone.rowCount ?? 0) > 0) await this.#bump(client);
    });
  }

  async close(): Promise<void> {
    await this.#pool.end();
  }
}
