import { randomUUID } from "node:crypto";
import { startPostgres } from "@outrig/conformance/services";
import { utf8 } from "@outrig/core";
import { afterAll, describe, expect, it } from "vitest";
import { createPostgresBinding } from "../src/binding.ts";

const postgres = await startPostgres();
const binding = await createPostgresBinding({ connectionString: postgres.connectionString });
const table = `binding_test_${randomUUID().replaceAll("-", "").slice(0, 12)}`;
afterAll(async () => {
  await binding.invoke({ operation: "exec", metadata: { sql: `DROP TABLE IF EXISTS ${table}` } });
  await binding.close();
  await postgres.stop();
});

const exec = (sql: string, params?: unknown[]) =>
  binding.invoke({
    operation: "exec",
    metadata: { sql, ...(params ? { params: JSON.stringify(params) } : {}) },
  });
const query = async (sql: string, params?: unknown[]): Promise<unknown> => {
  const response = await binding.invoke({
    operation: "query",
    metadata: { sql, ...(params ? { params: JSON.stringify(params) } : {}) },
  });
  return JSON.parse(utf8(response.data as Uint8Array));
};

describe("bindings.postgresql", () => {
  it("exec runs DDL and DML with params and reports rows-affected and timing", async () => {
    await exec(`CREATE TABLE ${table} (id int PRIMARY KEY, name text, doc jsonb, big bigint)`);
    const insert = await exec(
      `INSERT INTO ${table} VALUES ($1, $2, $3, $4), ($5, $6, NULL, NULL)`,
      [1, "one", { a: [1, 2] }, "9007199254740993", 2, "two"],
    );
    expect(insert.metadata?.["rows-affected"]).toBe("2");
    expect(insert.metadata?.operation).toBe("exec");
    for (const k of ["start-time", "end-time", "duration"])
      expect(insert.metadata?.[k]).toBeTruthy();
  });

  it("query returns rows as arrays of column values, as Dapr does", async () => {
    expect(await query(`SELECT id, name, doc, big FROM ${table} WHERE id = $1`, [1])).toEqual([
      [1, "one", { a: [1, 2] }, "9007199254740993"],
    ]);
    expect(await query(`SELECT id FROM ${table} ORDER BY id`)).toEqual([[1], [2]]);
    expect(await query(`SELECT id FROM ${table} WHERE id = $1`, [99])).toEqual([]);
  });

  it("params are bound, never spliced into SQL", async () => {
    const evil = `x'); DROP TABLE ${table}; --`;
    await exec(`INSERT INTO ${table} (id, name) VALUES ($1, $2)`, [3, evil]);
    expect(await query(`SELECT name FROM ${table} WHERE id = $1`, [3])).toEqual([[evil]]);
  });

  it("rejects several statements in one request, even without params", async () => {
    await expect(exec(`SELECT 1; DROP TABLE ${table}`)).rejects.toMatchObject({
      code: "ERR_INVALID_REQUEST",
    });
    expect(await query(`SELECT count(*)::int FROM ${table}`)).toEqual([[3]]);
  });

  it("rejects a missing sql, bad params and bad SQL with ERR_INVALID_REQUEST", async () => {
    await expect(binding.invoke({ operation: "exec", metadata: {} })).rejects.toMatchObject({
      code: "ERR_INVALID_REQUEST",
    });
    await expect(
      binding.invoke({ operation: "query", metadata: { sql: "SELECT $1::int", params: "{" } }),
    ).rejects.toMatchObject({ code: "ERR_INVALID_REQUEST" });
    await expect(
      binding.invoke({
        operation: "query",
        metadata: { sql: "SELECT $1::int", params: '{"a":1}' },
      }),
    ).rejects.toMatchObject({ code: "ERR_INVALID_REQUEST" });
    await expect(exec("SELEC 1")).rejects.toMatchObject({
      code: "ERR_INVALID_REQUEST",
      details: { sqlstate: "42601" },
    });
    await expect(exec(`INSERT INTO ${table} (id) VALUES ($1)`, [1])).rejects.toMatchObject({
      details: { sqlstate: "23505" },
    });
  });

  it("the close operation closes the binding", async () => {
    const other = await createPostgresBinding({ connectionString: postgres.connectionString });
    await other.invoke({ operation: "close" });
    await expect(
      other.invoke({ operation: "query", metadata: { sql: "SELECT 1" } }),
    ).rejects.toMatchObject({
      code: "ERR_CLOSED",
    });
    await other.close();
  });

  it("rejects missing metadata and an unreachable server", async () => {
    await expect(createPostgresBinding({})).rejects.toMatchObject({ code: "ERR_CONFIG_INVALID" });
    await expect(
      createPostgresBinding({ connectionString: "postgres://u:p@127.0.0.1:1/db", timeout: "1s" }),
    ).rejects.toMatchObject({ code: "ERR_UNAVAILABLE" });
  });
});
