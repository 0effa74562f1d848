import { ConfigError } from "@outrig/core";
import { describe, expect, it } from "vitest";
import { parseConnectionString } from "../src/connection.ts";
import {
  createSqliteStateStore,
  manifest,
  parseSqliteMetadata,
  sqliteOptions,
} from "../src/index.ts";
import { likeToGlob } from "../src/like-glob.ts";
import { jsonPath } from "../src/query-sql.ts";

function configIssues(fn: () => unknown): string[] {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).issues.map((i) => `${i.field}: ${i.message}`);
  }
  expect.fail("expected a ConfigError");
}

describe("metadata", () => {
  it("library mode takes the YAML's names, typed, and refuses an unknown one", async () => {
    const store = await createSqliteStateStore({
      connectionString: ":memory:",
      cleanupInterval: "0",
    });
    await store.close();
    const error = await createSqliteStateStore({
      connectionString: ":memory:",
      // @ts-expect-error: a typo the type refuses, and so does the factory
      tablename_: "x",
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).issues[0]?.field).toBe("tablename_");
    // The YAML path ignores it, as daprd passes built-ins.
    const yaml = await manifest.components[0]?.create({
      connectionString: ":memory:",
      keyPrefix: "none",
    });
    await yaml?.close();
  });

  it("applies Dapr's defaults", () => {
    const s = parseSqliteMetadata({ connectionString: "data.db" });
    expect(s).toMatchObject({
      connectionString: "data.db",
      tableName: "state",
      metadataTableName: "metadata",
      timeout: 20_000,
      busyTimeout: 2000,
      cleanupInterval: 3_600_000,
      disableWAL: false,
    });
  });

  it("reads keys case-insensitively and accepts Dapr's older *InSeconds names", () => {
    const s = parseSqliteMetadata({
      ConnectionString: ":memory:",
      timeoutInSeconds: "30",
      cleanupIntervalInSeconds: "120",
    });
    expect(s.connectionString).toBe(":memory:");
    expect(s.timeout).toBe(30_000);
    expect(s.cleanupInterval).toBe(120_000);
  });

  it("disables the cleanup with 0 or a negative interval, as Dapr does", () => {
    expect(
      parseSqliteMetadata({ connectionString: "x.db", cleanupInterval: "0" }).cleanupInterval,
    ).toBe(0);
    expect(
      parseSqliteMetadata({ connectionString: "x.db", cleanupInterval: "-1" }).cleanupInterval,
    ).toBe(0);
    expect(
      parseSqliteMetadata({ connectionString: "x.db", cleanupInterval: "-5m" }).cleanupInterval,
    ).toBe(0);
  });

  it("reports every problem at once, naming the fields", () => {
    const issues = configIssues(() =>
      parseSqliteMetadata({
        tableName: "state; DROP TABLE x",
        busyTimeout: "soon",
        cleanupInterval: "often",
      }),
    );
    expect(issues).toEqual(
      expect.arrayContaining([
        "connectionString: is required",
        expect.stringMatching(/^busyTimeout: /),
      ]),
    );
    const second = configIssues(() =>
      parseSqliteMetadata({
        connectionString: "x.db",
        tableName: "bad-name",
        cleanupInterval: "often",
      }),
    );
    expect(second).toEqual([
      "tableName: must be a plain identifier (letters, digits, underscore)",
      "cleanupInterval: must be a duration such as 1h, 10m or 30s",
    ]);
  });

  it("rejects equal table names and a busy timeout above the operation timeout", () => {
    expect(
      configIssues(() =>
        parseSqliteMetadata({
          connectionString: "x.db",
          tableName: "s",
          metadataTableName: "S",
          busyTimeout: "30s",
        }),
      ),
    ).toEqual([
      "metadataTableName: must differ from tableName",
      "busyTimeout: must not exceed timeout",
    ]);
  });

  it("has a JSON schema and a manifest entry naming state.sqlite", () => {
    const schema = sqliteOptions.jsonSchema() as {
      required: string[];
      properties: Record<string, unknown>;
    };
    expect(schema.required).toEqual(["connectionString"]);
    expect(Object.keys(schema.properties)).toEqual(
      expect.arrayContaining([
        "connectionString",
        "tableName",
        "metadataTableName",
        "timeout",
        "busyTimeout",
        "cleanupInterval",
      ]),
    );
    expect(manifest.components.map((c) => c.type)).toEqual(["state.sqlite", "lock.sqlite"]);
    expect(manifest.components[0]?.capabilities).toEqual([
      "ETAG",
      "TRANSACTIONAL",
      "QUERY_API",
      "TTL",
      "DELETE_WITH_PREFIX",
      "KEYS_LIKE",
      "ACTOR",
    ]);
  });
});

describe("connectionString", () => {
  it("takes a path, :memory: and file: URIs", () => {
    expect(parseConnectionString("/tmp/a.db")).toMatchObject({
      location: "/tmp/a.db",
      memory: false,
    });
    expect(parseConnectionString(":memory:")).toMatchObject({ location: ":memory:", memory: true });
    expect(parseConnectionString("file:///tmp/b%20c.db")).toMatchObject({
      location: "/tmp/b c.db",
    });
    expect(parseConnectionString("file::memory:?cache=shared")).toMatchObject({ memory: true });
    expect(parseConnectionString("file:x.db?mode=memory")).toMatchObject({ memory: true });
    expect(parseConnectionString("file:/tmp/r.db?mode=ro")).toMatchObject({ readOnly: true });
    expect(parseConnectionString("file:/tmp/w.db?mode=rw")).toMatchObject({ mustExist: true });
  });

  it("turns _pragma parameters into PRAGMA statements", () => {
    expect(
      parseConnectionString("file:/tmp/p.db?_pragma=foreign_keys(1)&_pragma=synchronous=NORMAL")
        .pragmas,
    ).toEqual(["PRAGMA foreign_keys = 1", "PRAGMA synchronous = NORMAL"]);
  });

  it("rejects what the component manages itself, and unknown parameters", () => {
    expect(
      configIssues(() => parseConnectionString("file:/tmp/p.db?_pragma=busy_timeout(5000)")),
    ).toEqual([
      "connectionString: _pragma=busy_timeout is not allowed: use the busyTimeout metadata field instead",
    ]);
    expect(
      configIssues(() => parseConnectionString("file:/tmp/p.db?_pragma=journal_mode(DELETE)"))[0],
    ).toMatch(/disableWAL/);
    expect(configIssues(() => parseConnectionString("file:/tmp/p.db?vfs=unix"))[0]).toMatch(
      /unsupported/,
    );
    expect(configIssues(() => parseConnectionString("file://remote/p.db"))[0]).toMatch(/authority/);
    expect(configIssues(() => parseConnectionString("file:/tmp/p.db?_pragma=x;drop"))[0]).toMatch(
      /_pragma/,
    );
  });
});

describe("pure helpers", () => {
  it("translates LIKE patterns to case-sensitive GLOB patterns", () => {
    expect(likeToGlob("prefix||%")).toBe("prefix||*");
    expect(likeToGlob("abc_")).toBe("abc?");
    expect(likeToGlob("hello\\_")).toBe("hello_");
    expect(likeToGlob("hello%\\%")).toBe("hello*%");
    expect(likeToGlob("a*b?c[d]")).toBe("a[*]b[?]c[[]d]");
    expect(likeToGlob("end\\")).toBe("end\\");
  });

  it("quotes JSON paths and rejects unsafe ones", () => {
    expect(jsonPath("product.value")).toBe('$."product"."value"');
    expect(jsonPath("a-b")).toBe('$."a-b"');
    expect(() => jsonPath('a"b')).toThrow(/bad key path/);
    expect(() => jsonPath("a..b")).toThrow(/bad key path/);
  });
});
