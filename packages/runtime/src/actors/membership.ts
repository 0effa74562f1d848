import { SqliteFile } from "../scheduler/sqlite-file.ts";

/** One sidecar taking part in actor placement. */
export interface PlacementMember {
  /** Unique per sidecar run: a restarted sidecar is a new member. */
  id: string;
  appId: string;
  /** Where other sidecars forward this member's actor calls (its HTTP API). */
  host: string;
  port: number;
  /** The actor types its app hosts (may be none: it only forwards). */
  types: string[];
  /** The newest epoch this member has finished rebalancing for (its lost actors deactivated). */
  drained: number;
}

/**
 * The membership as of one epoch. The epoch grows by one in the same transaction as every change
 * of the rows (a join, a leave, a changed row, an expired lease removed), so two sidecars that
 * read one epoch read the same members and compute the same owners.
 */
export interface MembershipSnapshot {
  epoch: number;
  members: PlacementMember[];
}

/**
 * Membership rows with leases in a store the sidecars already share. The store's transactions
 * decide every change; no sidecar decides for another beyond deleting a row whose lease ran out.
 */
export interface MembershipStore {
  /**
   * Writes or renews `member`'s row until `leaseUntil`, deletes the rows whose lease ran out by
   * `now`, bumps the epoch when anything but the lease changed, and returns the membership.
   */
  renew(member: PlacementMember, now: number, leaseUntil: number): Promise<MembershipSnapshot>;
  // `drained` is written with every renewal and, like the lease, is no membership change.
  /** Deletes the member's row (a graceful leave) and bumps the epoch. */
  leave(memberId: string): Promise<void>;
  close(): Promise<void>;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS outrig_actor_members (
  namespace TEXT NOT NULL,
  member_id TEXT NOT NULL,
  app_id TEXT NOT NULL,
  host TEXT NOT NULL,
  port INTEGER NOT NULL,
  types TEXT NOT NULL,
  lease_until INTEGER NOT NULL,
  drained INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (namespace, member_id)
);
CREATE TABLE IF NOT EXISTS outrig_actor_epochs (
  namespace TEXT PRIMARY KEY,
  epoch INTEGER NOT NULL
);
`;

interface MemberRow {
  member_id: string;
  app_id: string;
  host: string;
  port: number;
  types: string;
  drained: number | string;
}

export const MEMBER_COLUMNS = "member_id, app_id, host, port, types, drained";

export function memberOfRow(row: MemberRow): PlacementMember {
  return {
    id: row.member_id,
    appId: row.app_id,
    host: row.host,
    port: Number(row.port),
    types: JSON.parse(row.types) as string[],
    drained: Number(row.drained),
  };
}

/** The row text of the types: sorted, so an unchanged set compares equal. */
export function typesText(types: readonly string[]): string {
  return JSON.stringify([...types].sort());
}

/**
 * Membership in a SQLite file, beside the scheduler's jobs in the same file: every sidecar given
 * that file takes part. `BEGIN IMMEDIATE` lets one writer in at a time across processes, so a
 * renewal, its expiry sweep and its epoch bump are one atomic step.
 */
export class SqliteMembershipStore implements MembershipStore {
  readonly #file: SqliteFile;
  readonly #namespace: string;

  constructor(path: string, namespace: string) {
    this.#namespace = namespace;
    this.#file = new SqliteFile(path, SCHEMA);
    const columns = this.#file.db.prepare("PRAGMA table_info(outrig_actor_members)").all() as {
      name: string;
    }[];
    if (!columns.some((c) => c.name === "drained")) {
      this.#file.db.exec(
        "ALTER TABLE outrig_actor_members ADD COLUMN drained INTEGER NOT NULL DEFAULT 0",
      );
    }
  }

  #bump(): void {
    this.#file
      .sql(
        `INSERT INTO outrig_actor_epochs (namespace, epoch) VALUES (?, 1)
       ON CONFLICT (namespace) DO UPDATE SET epoch = epoch + 1`,
      )
      .run(this.#namespace);
  }

  async renew(
    member: PlacementMember,
    now: number,
    leaseUntil: number,
  ): Promise<MembershipSnapshot> {
    const ns = this.#namespace;
    const types = typesText(member.types);
    return this.#file.write(() => {
      let changed =
        Number(
          this.#file
            .sql(
              "DELETE FROM outrig_actor_members WHERE namespace = ? AND lease_until < ? AND member_id <> ?",
            )
            .run(ns, now, member.id).changes,
        ) > 0;
      const renewed = this.#file
        .sql(
          `UPDATE outrig_actor_members SET lease_until = ?, drained = ?
         WHERE namespace = ? AND member_id = ? AND app_id = ? AND host = ? AND port = ? AND types = ?`,
        )
        .run(
          leaseUntil,
          member.drained,
          ns,
          member.id,
          member.appId,
          member.host,
          member.port,
          types,
        );
      if (Number(renewed.changes) === 0) {
        this.#file
          .sql(
            `INSERT OR REPLACE INTO outrig_actor_members
           (namespace, member_id, app_id, host, port, types, lease_until, drained)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
          )
          .run(
            ns,
            member.id,
            member.appId,
            member.host,
            member.port,
            types,
            leaseUntil,
            member.drained,
          );
        changed = true;
      }
      if (changed) this.#bump();
      const epoch = this.#file
        .sql("SELECT epoch FROM outrig_actor_epochs WHERE namespace = ?")
        .get(ns) as { epoch: number } | undefined;
      const rows = this.#file
        .sql(
          `SELECT ${MEMBER_COLUMNS} FROM outrig_actor_members WHERE namespace = ? ORDER BY member_id`,
        )
        .all(ns) as unknown as MemberRow[];
      return { epoch: Number(epoch?.epoch ?? 0), members: rows.map(memberOfRow) };
    });
  }

  async leave(memberId: string): Promise<void> {
    this.#file.write(() => {
      const gone = this.#file
        .sql("DELETE FROM outrig_actor_members WHERE namespace = ? AND member_id = ?")
        .run(this.#namespace, memberId);
      if (Number(gone.changes) > 0) this.#bump();
    });
  }

  async close(): Promise<void> {
    this.#file.close();
  }
}

/**
 * The membership store beside the scheduler store a location names: the same PostgreSQL
 * database for a `postgres://` location, else the same SQLite file. `:memory:` has no one to
 * share with: undefined.
 */
export async function openMembershipStore(
  location: string,
  namespace: string,
): Promise<MembershipStore | undefined> {
  if (/^postgres(ql)?:\/\//i.test(location)) {
    const { PostgresMembershipStore } = await import("./postgres-membership.ts");
    return PostgresMembershipStore.open(location, namespace);
  }
  if (location === ":memory:") return undefined;
  return new SqliteMembershipStore(location, namespace);
}
