import { randomUUID } from "node:crypto";
import { describeConfigurationStoreConformance } from "@outrig/conformance";
import { startPostgres } from "@outrig/conformance/services";
import { ComponentError, ConfigError } from "@outrig/core";
import pg from "pg";
import { afterAll, describe, expect, it } from "vitest";
import { createPostgresConfigurationStore } from "../src/index.ts";

// The reconnect case restarts the server, so this file has a container of its own.
const postgres = await startPostgres({ container: true });
const run = randomUUID().replaceAll("-", "").slice(0, 12);
const table = `configtable_${run}`;
const channel = `config_${run}`;
const writer = new pg.Pool({ connectionString: postgres.connectionString, max: 2 });
writer.on("error", () => {});

// The table, trigger function and trigger as Dapr's configuration.postgresql docs give them.
await writer.query(
  `CREATE TABLE ${table} (KEY VARCHAR NOT NULL, VALUE VARCHAR NOT NULL, VERSION VARCHAR NOT NULL, METADATA JSON)`,
);
await writer.query(`
  CREATE OR REPLACE FUNCTION notify_event_${run}() RETURNS TRIGGER AS $$
    DECLARE
      data json;
      notification json;
    BEGIN
      IF (TG_OP = 'DELETE') THEN
        data = row_to_json(OLD);
      ELSE
        data = row_to_json(NEW);
      END IF;
      notification = json_build_object('table', TG_TABLE_NAME, 'action', TG_OP, 'data', data);
      PERFORM pg_notify('${channel}', notification::text);
      RETURN NULL;
    END;
  $$ LANGUAGE plpgsql;`);
await writer.query(
  `CREATE TRIGGER config_${run} AFTER INSERT OR UPDATE OR DELETE ON ${table} FOR EACH ROW EXECUTE PROCEDURE notify_event_${run}()`,
);

afterAll(async () => {
  await writer.end();
  await postgres.stop();
});

const create = () =>
  createPostgresConfigurationStore({
    connectionString: postgres.connectionString,
    table,
    timeout: "5s",
  });

async function write(key: string, value: string, version: string, metadata = "{}"): Promise<void> {
  const updated = await writer.query(
    `UPDATE ${table} SET value = $2, version = $3, metadata = $4 WHERE key = $1`,
    [key, value, version, metadata],
  );
  if (updated.rowCount === 0) {
    await writer.query(
      `INSERT INTO ${table} (key, value, version, metadata) VALUES ($1, $2, $3, $4)`,
      [key, value, version, metadata],
    );
  }
}

describeConfigurationStoreConformance({
  name: "postgresql",
  create,
  write,
  remove: async (key) => {
    await writer.query(`DELETE FROM ${table} WHERE key = $1`, [key]);
  },
  subscribeMetadata: { pgNotifyChannel: channel },
  burst: "every",
  restartServer: () => postgres.restart(),
});

describe("configuration.postgresql", () => {
  it("reads the METADATA column as the item's metadata, on get and in notifications", async () => {
    const store = await create();
    try {
      await write("meta-key", "v", "1", '{"owner":"ops","n":2}');
      expect(await store.get(["meta-key"])).toEqual({
        "meta-key": { value: "v", version: "1", metadata: { owner: "ops", n: "2" } },
      });
      const seen: unknown[] = [];
      const id = await store.subscribe(["meta-key"], { PGNOTIFYCHANNEL: channel }, async (u) => {
        seen.push(u.items["meta-key"]);
      });
      await write("meta-key", "w", "2", '{"owner":"dev"}');
      for (let i = 0; i < 100 && seen.length === 0; i++)
        await new Promise((r) => setTimeout(r, 50));
      expect(seen).toEqual([{ value: "w", version: "2", metadata: { owner: "dev" } }]);
      await store.unsubscribe(id);
    } finally {
      await store.close();
    }
  });

  it("subscribing without pgNotifyChannel is refused naming it", async () => {
    const store = await create();
    try {
      const error = await store
        .subscribe(["a"], {}, async () => undefined)
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ComponentError);
      expect((error as ComponentError).code).toBe("ERR_INVALID_REQUEST");
      expect((error as Error).message).toContain("pgNotifyChannel");
    } finally {
      await store.close();
    }
  });

  it("a table that does not exist fails start-up naming the table and the columns Dapr documents", async () => {
    const error = await createPostgresConfigurationStore({
      connectionString: postgres.connectionString,
      table: `missing_${run}`,
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toContain(`missing_${run}`);
    expect((error as Error).message).toContain("KEY, VALUE, VERSION, METADATA");
  });
});
