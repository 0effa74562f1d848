import { ComponentError, ConfigError } from "@outrig/core";
import { describe, expect, it } from "vitest";
import { connectionConfig } from "../src/connection-string.ts";
import { bareTableName, quoteTableName } from "../src/identifiers.ts";
import { buildQuery, Params } from "../src/query.ts";

describe("query translation", () => {
  it("puts every request value in a parameter, never in the SQL text", () => {
    const params = new Params();
    const hostile = "'; DROP TABLE state; --";
    const q = buildQuery(
      {
        filter: {
          OR: [
            { EQ: { [hostile]: hostile } },
            { AND: [{ GT: { "a.b": 1 } }, { IN: { c: [hostile, 2] } }, { NEQ: { d: null } }] },
          ],
        },
        sort: [{ key: hostile, order: "DESC" }],
        page: { limit: 5, token: "10" },
      },
      params,
    );
    expect(`${q.where} ${q.orderBy}`).not.toContain("DROP");
    expect(params.values).toContainEqual([hostile]);
    expect(params.values).toContainEqual(JSON.stringify(hostile));
    expect(params.values).toContainEqual(["a", "b"]);
    expect(params.values).toContainEqual([JSON.stringify(hostile), "2"]);
    expect(q.where).toMatch(/^\(.* OR \(.* AND .* AND .*\)\)$/);
    expect(q.orderBy).toMatch(/DESC NULLS LAST, key ASC$/);
    expect([q.limit, q.offset]).toEqual([5, 10]);
  });

  it("orders by key when nothing else is asked, and reads no limit as unlimited", () => {
    const q = buildQuery({}, new Params());
    expect([q.where, q.orderBy, q.limit, q.offset]).toEqual(["TRUE", "key ASC", undefined, 0]);
  });

  it("rejects what it cannot translate", () => {
    const bad = [
      { filter: { GT: { a: true } } },
      { filter: { EQ: { "a..b": 1 } } },
      { page: { token: "-1" } },
      { page: { limit: 1.5 } },
      { sort: [{ key: "a", order: "UP" }] },
    ];
    for (const query of bad) {
      expect(() => buildQuery(query as never, new Params()), JSON.stringify(query)).toThrow(
        ComponentError,
      );
    }
  });
});

describe("table names", () => {
  it("folds to lower case and quotes, as PostgreSQL treats Dapr's unquoted names", () => {
    expect(quoteTableName("State", "tableName", "c")).toBe('"state"');
    expect(quoteTableName("app.Order", "tableName", "c")).toBe('"app"."order"');
    expect(bareTableName("app.Order")).toBe("order");
    for (const bad of ["a-b", 'a"b', "a.b.c", "9a", "a b", `a${"x".repeat(63)}`]) {
      expect(() => quoteTableName(bad, "tableName", "c"), bad).toThrow(ConfigError);
    }
  });
});

describe("connection strings", () => {
  it("passes URLs through and maps libpq keywords onto pg settings", () => {
    expect(connectionConfig("postgres://u@h/db", "c")).toEqual({
      connectionString: "postgres://u@h/db",
    });
    expect(
      connectionConfig(
        "host=h port=5433 user=u password='p w' dbname=d sslmode=require connect_timeout=3",
        "c",
      ),
    ).toEqual({
      host: "h",
      port: 5433,
      user: "u",
      password: "p w",
      database: "d",
      ssl: { rejectUnauthorized: false },
      connectionTimeoutMillis: 3000,
    });
    expect(() => connectionConfig("host=h sslmode=sometimes", "c")).toThrow(ConfigError);
    expect(() => connectionConfig("port=abc", "c")).toThrow(ConfigError);
  });
});
