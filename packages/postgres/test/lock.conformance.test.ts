import { randomUUID } from "node:crypto";
import { describeLockStoreConformance } from "@outrig/conformance";
import { startPostgres } from "@outrig/conformance/services";
import pg from "pg";
import { afterAll, describe, expect, it } from "vitest";
import { createPostgresLockStore } from "../src/index.ts";

// The suite creates its store while it is collected, so the service starts first.
const postgres = await startPostgres();
const table = `outrig_locks_${randomUUID().replaceAll("-", "").slice(0, 12)}`;

afterAll(async () => {
  const client = new pg.Client({ connectionString: postgres.connectionString });
  try {
    await client.connect();
    await client.query(`DROP TABLE IF EXISTS ${table}, public.${table}_custom`);
  } finally {
    await client.end();
    await postgres.stop();
  }
});

// Every create() is its own pool: the second clients of the exclusion and durability cases are
// separate connections, as separate sidecars would be.
describeLockStoreConformance({
  name: "postgresql",
  create: () =>
    createPostgresLockStore({ connectionString: postgres.connectionString, tableName: table }),
  options: { expiryGraceMs: 300 },
});

describeLockStoreConformance({
  name: "postgresql-schema-qualified-small-pool",
  create: () =>
    createPostgresLockStore({
      connectionString: postgres.connectionString,
      tableName: `public.${table}_custom`,
      maxConns: "2",
      cleanupInterval: "1s",
    }),
  options: { expiryGraceMs: 300 },
});

describe("lock.postgresql layout", () => {
  it("a lock is a row (resource_id, owner, expires_at by the server's clock)", async () => {
    const store = await createPostgresLockStore({
      connectionString: postgres.connectionString,
      tableName: table,
    });
    const client = new pg.Client({ connectionString: postgres.connectionString });
    await client.connect();
    try {
      const id = `layout-${randomUUID()}`;
      expect(await store.tryLock({ resourceId: id, lockOwner: "w1", expiryInSeconds: 30 })).toEqual(
        {
          success: true,
        },
      );
      const { rows } = await client.query(
        `SELECT owner, extract(epoch FROM expires_at - now()) AS left FROM ${table} WHERE resource_id = $1`,
        [id],
      );
      expect(rows[0].owner).toBe("w1");
      expect(Number(rows[0].left)).toBeGreaterThan(25);
      expect(Number(rows[0].left)).toBeLessThanOrEqual(30);
    } finally {
      await client.end();
      await store.close();
    }
  });

  it("a bad table name is refused at init naming tableName", async () => {
    await expect(
      createPostgresLockStore({
        connectionString: postgres.connectionString,
        tableName: "x; drop",
      }),
    ).rejects.toMatchObject({
      code: "ERR_CONFIG_INVALID",
      message: expect.stringContaining("tableName"),
    });
  });
});
