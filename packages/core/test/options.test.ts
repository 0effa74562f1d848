import { describe, expect, it } from "vitest";
import { ConfigError, defineOptions, option } from "../src/index.ts";

const schema = defineOptions("state.example", {
  redisHost: option.string({ required: true, description: "host:port", example: "localhost:6379" }),
  redisPassword: option.string({ sensitive: true, aliases: ["password"] }),
  maxRetries: option.integer({ default: 3, min: 0, max: 10 }),
  ratio: option.number({ min: 0 }),
  enableTLS: option.boolean({ default: false }),
  cleanupInterval: option.duration({ default: 3_600_000, aliases: ["cleanupIntervalInSeconds"] }),
  timeoutMs: option.duration({ bareUnit: "ms" }),
  redisType: option.enum(["node", "cluster"] as const, { default: "node" }),
  queryIndexes: option.json<{ name: string }[]>(),
  brokers: option.list(),
});

function issuesOf(fn: () => unknown): { field: string; message: string }[] {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).code).toBe("ERR_CONFIG_INVALID");
    return [...(error as ConfigError).issues];
  }
  throw new Error("expected a ConfigError");
}

describe("defineOptions().parse", () => {
  it("reads keys case-insensitively, as Dapr does", () => {
    const parsed = schema.parse({ REDISHOST: "h:1", enabletls: "true", MaxRetries: "5" });
    expect(parsed.redisHost).toBe("h:1");
    expect(parsed.enableTLS).toBe(true);
    expect(parsed.maxRetries).toBe(5);
  });

  it("fills defaults and leaves optional fields undefined", () => {
    const parsed = schema.parse({ redisHost: "h" });
    expect(parsed.maxRetries).toBe(3);
    expect(parsed.enableTLS).toBe(false);
    expect(parsed.cleanupInterval).toBe(3_600_000);
    expect(parsed.redisType).toBe("node");
    expect(parsed.redisPassword).toBeUndefined();
    expect(parsed.brokers).toBeUndefined();
  });

  it("treats an empty string as absent (Dapr YAML often carries empty values)", () => {
    const parsed = schema.parse({ redisHost: "h", maxRetries: "", redisPassword: "" });
    expect(parsed.maxRetries).toBe(3);
    expect(parsed.redisPassword).toBeUndefined();
  });

  it("accepts aliases, and the canonical name wins over an alias", () => {
    expect(schema.parse({ redisHost: "h", password: "p" }).redisPassword).toBe("p");
    expect(schema.parse({ redisHost: "h", PASSWORD: "p" }).redisPassword).toBe("p");
    expect(
      schema.parse({ redisHost: "h", password: "alias", redisPassword: "main" }).redisPassword,
    ).toBe("main");
    expect(schema.parse({ redisHost: "h", cleanupIntervalInSeconds: "30" }).cleanupInterval).toBe(
      30_000,
    );
  });

  it("reports every problem at once, each naming its field", () => {
    const issues = issuesOf(() =>
      schema.parse({
        maxRetries: "many",
        enableTLS: "maybe",
        cleanupInterval: "soon",
        redisType: "ring",
      }),
    );
    expect(issues.map((i) => i.field).sort()).toEqual(
      ["cleanupInterval", "enableTLS", "maxRetries", "redisHost", "redisType"].sort(),
    );
    expect(issues.find((i) => i.field === "redisHost")?.message).toBe("is required");
  });

  it("names the field in the error message and keeps the component prefix", () => {
    try {
      schema.parse({});
      expect.fail("parse must throw");
    } catch (error) {
      expect((error as Error).message).toContain("[state.example]");
      expect((error as Error).message).toContain("redisHost: is required");
    }
  });

  it("parses integers with bounds", () => {
    expect(schema.parse({ redisHost: "h", maxRetries: " 0 " }).maxRetries).toBe(0);
    expect(issuesOf(() => schema.parse({ redisHost: "h", maxRetries: "1.5" }))[0]?.message).toBe(
      "must be an integer",
    );
    expect(issuesOf(() => schema.parse({ redisHost: "h", maxRetries: "11" }))[0]?.message).toBe(
      "must be <= 10",
    );
    expect(issuesOf(() => schema.parse({ redisHost: "h", maxRetries: "-1" }))[0]?.message).toBe(
      "must be >= 0",
    );
  });

  it("parses numbers", () => {
    expect(schema.parse({ redisHost: "h", ratio: "0.25" }).ratio).toBe(0.25);
    expect(issuesOf(() => schema.parse({ redisHost: "h", ratio: "a" }))[0]?.field).toBe("ratio");
    expect(issuesOf(() => schema.parse({ redisHost: "h", ratio: "-1" }))[0]?.field).toBe("ratio");
  });

  it("parses Dapr's boolean spellings", () => {
    for (const v of ["true", "TRUE", "t", "yes", "Y", "on", "1"]) {
      expect(schema.parse({ redisHost: "h", enableTLS: v }).enableTLS, v).toBe(true);
    }
    for (const v of ["false", "F", "no", "n", "off", "0"]) {
      expect(schema.parse({ redisHost: "h", enableTLS: v }).enableTLS, v).toBe(false);
    }
  });

  it("parses durations to ms; a bare number uses the field's unit", () => {
    const d = (v: string) => schema.parse({ redisHost: "h", cleanupInterval: v }).cleanupInterval;
    expect(d("5s")).toBe(5000);
    expect(d("1m30s")).toBe(90_000);
    expect(d("500ms")).toBe(500);
    expect(d("1h")).toBe(3_600_000);
    expect(d("10")).toBe(10_000);
    expect(schema.parse({ redisHost: "h", timeoutMs: "250" }).timeoutMs).toBe(250);
    expect(issuesOf(() => d("-5s"))[0]?.field).toBe("cleanupInterval");
    expect(issuesOf(() => d("5 parsecs"))[0]?.field).toBe("cleanupInterval");
  });

  it("matches enums case-insensitively and returns the canonical spelling", () => {
    expect(schema.parse({ redisHost: "h", redisType: "CLUSTER" }).redisType).toBe("cluster");
  });

  it("parses JSON and comma-separated lists", () => {
    expect(
      schema.parse({ redisHost: "h", queryIndexes: '[{"name":"qIndx"}]' }).queryIndexes,
    ).toEqual([{ name: "qIndx" }]);
    expect(issuesOf(() => schema.parse({ redisHost: "h", queryIndexes: "[" }))[0]?.message).toBe(
      "must be valid JSON",
    );
    expect(schema.parse({ redisHost: "h", brokers: " a:1, b:2 ,,c:3 " }).brokers).toEqual([
      "a:1",
      "b:2",
      "c:3",
    ]);
  });

  it("ignores unknown keys and returns a frozen object", () => {
    const parsed = schema.parse({ redisHost: "h", somethingElse: "x" });
    expect(Object.isFrozen(parsed)).toBe(true);
    expect(parsed).not.toHaveProperty("somethingElse");
  });

  it("accepts undefined metadata when nothing is required", () => {
    const empty = defineOptions("state.none", { interval: option.duration({ default: 1000 }) });
    expect(empty.parse(undefined).interval).toBe(1000);
  });
});

describe("defineOptions().jsonSchema", () => {
  const json = schema.jsonSchema() as {
    $schema: string;
    title: string;
    properties: Record<string, Record<string, unknown>>;
    required: string[];
    additionalProperties: boolean;
  };

  it("describes every field with type, default, example and aliases", () => {
    expect(json.$schema).toBe("https://json-schema.org/draft/2020-12/schema");
    expect(json.title).toBe("state.example");
    expect(Object.keys(json.properties).sort()).toEqual(Object.keys(schema.fields).sort());
    expect(json.properties.maxRetries).toMatchObject({
      type: "integer",
      minimum: 0,
      maximum: 10,
      default: 3,
    });
    expect(json.properties.enableTLS).toMatchObject({ type: "boolean", default: false });
    expect(json.properties.redisType).toMatchObject({ type: "string", enum: ["node", "cluster"] });
    expect(json.properties.redisHost).toMatchObject({
      description: "host:port",
      examples: ["localhost:6379"],
    });
    expect(json.properties.cleanupInterval).toMatchObject({
      format: "duration",
      "x-aliases": ["cleanupIntervalInSeconds"],
    });
  });

  it("lists required fields without defaults, marks secrets and allows unknown keys", () => {
    expect(json.required).toEqual(["redisHost"]);
    expect(json.properties.redisPassword).toMatchObject({ writeOnly: true, "x-sensitive": true });
    expect(json.properties.redisHost).not.toHaveProperty("x-sensitive");
    expect(json.additionalProperties).toBe(true);
  });

  it("the duration pattern accepts what the parser accepts", () => {
    const pattern = new RegExp(json.properties.cleanupInterval?.pattern as string);
    for (const v of ["5s", "1m30s", "500ms", "10", "1.5h"]) expect(pattern.test(v), v).toBe(true);
    expect(pattern.test("soon")).toBe(false);
  });
});

describe("defineOptions().redact", () => {
  it("lists sensitive fields and masks them, their aliases included, case-insensitively", () => {
    expect(schema.sensitiveFields).toEqual(["redisPassword"]);
    const input = { redisHost: "h", REDISPASSWORD: "secret", password: "also-secret" };
    expect(schema.redact(input)).toEqual({ redisHost: "h", REDISPASSWORD: "***", password: "***" });
    expect(input.REDISPASSWORD, "redact must not mutate its input").toBe("secret");
  });
});

describe("defineOptions().fromOptions (library mode)", () => {
  const schema = defineOptions("state.demo", {
    host: option.string({ required: true, aliases: ["url"] }),
    port: option.integer({ default: 1 }),
    tls: option.boolean({ default: false }),
    timeout: option.duration({ default: 1000 }),
    mode: option.enum(["fast", "safe"] as const),
    tags: option.list(),
  });

  it("turns typed values into Dapr metadata that parse reads back", () => {
    const metadata = schema.fromOptions({
      host: "h",
      port: 7,
      tls: true,
      timeout: 1500,
      mode: "safe",
      tags: ["a", "b"],
    });
    expect(metadata).toEqual({
      host: "h",
      port: "7",
      tls: "true",
      timeout: "1500ms",
      mode: "safe",
      tags: "a,b",
    });
    expect(schema.parse(metadata)).toMatchObject({
      port: 7,
      tls: true,
      timeout: 1500,
      tags: ["a", "b"],
    });
  });

  it("refuses every unknown key at once, naming the known fields", () => {
    let error: unknown;
    try {
      // @ts-expect-error: neither key is an option (the type refuses them too)
      schema.fromOptions({ host: "h", hots: "x", Mode2: "y" });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).issues.map((i) => i.field)).toEqual(["hots", "Mode2"]);
    expect((error as ConfigError).issues[0]?.message).toContain("options: host, port, tls");
    // Aliases and other casings are still the same field.
    expect(schema.fromOptions({ host: "h", ...({ URL: "u" } as object) })).toEqual({
      host: "h",
      URL: "u",
    });
  });
});
