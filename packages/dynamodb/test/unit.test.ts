import { ProvisionedThroughputExceededException } from "@aws-sdk/client-dynamodb";
import { ComponentError, ConfigError, ETagError } from "@outrig/core";
import { describe, expect, it } from "vitest";
import { backoffMs, chunk, sendUntilProcessed } from "../src/batch.ts";
import {
  dynamodbOptions,
  MAX_TRANSACTION_ITEMS,
  manifest,
  mapAwsError,
  parseDynamoDBMetadata,
} from "../src/index.ts";
import { fromValueAttribute, toValueAttribute } from "../src/items.ts";
import { type PlannedWrite, planTransaction } from "../src/plan.ts";

const base = { table: "t", region: "eu-west-1" };

function issues(metadata: Record<string, string>): string[] {
  try {
    parseDynamoDBMetadata(metadata);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).issues.map((i) => `${i.field}: ${i.message}`);
  }
  return expect.fail("expected a ConfigError");
}

describe("metadata", () => {
  it("applies Dapr's defaults and keeps credentials sensitive", () => {
    expect(parseDynamoDBMetadata(base)).toMatchObject({
      table: "t",
      region: "eu-west-1",
      partitionKey: "key",
    });
    expect(dynamodbOptions.sensitiveFields).toEqual(["accessKey", "secretKey", "sessionToken"]);
    expect(
      dynamodbOptions.redact({ ...base, accessKey: "AKIA", secretKey: "s", sessionToken: "tok" }),
    ).toEqual({
      ...base,
      accessKey: "***",
      secretKey: "***",
      sessionToken: "***",
    });
  });

  it("reports every problem at once", () => {
    const previous = {
      AWS_REGION: process.env.AWS_REGION,
      AWS_DEFAULT_REGION: process.env.AWS_DEFAULT_REGION,
    };
    delete process.env.AWS_REGION;
    delete process.env.AWS_DEFAULT_REGION;
    try {
      expect(issues({ accessKey: "a", endpoint: "not a url", partitionKey: "value" })).toEqual([
        "table: is required",
      ]);
      expect(
        issues({ table: "t", accessKey: "a", endpoint: "not a url", ttlAttributeName: "etag" }),
      ).toEqual([
        "secretKey: accessKey and secretKey go together",
        "endpoint: must be a URL such as http://localhost:8000",
        "region: is required (or set AWS_REGION)",
        'ttlAttributeName: must not be "etag", which holds the item\'s etag',
      ]);
      expect(issues({ ...base, sessionToken: "x", ttlAttributeName: "key" })).toEqual([
        "sessionToken: needs accessKey and secretKey",
        "ttlAttributeName: must differ from partitionKey",
      ]);
    } finally {
      Object.assign(
        process.env,
        Object.fromEntries(Object.entries(previous).filter(([, v]) => v !== undefined)),
      );
    }
  });

  it("names state.aws.dynamodb in the manifest", () => {
    expect(manifest.components.map((c) => [c.type, c.kind, c.capabilities])).toEqual([
      ["state.aws.dynamodb", "state", ["ETAG", "TRANSACTIONAL", "TTL", "ACTOR"]],
    ]);
  });
});

describe("error mapping", () => {
  it("maps throttling and connection failures to ERR_UNAVAILABLE, keeping the cause", () => {
    const throttled = new ProvisionedThroughputExceededException({
      message: "slow down",
      $metadata: {},
    });
    const mapped = mapAwsError(throttled, "get");
    expect(mapped.code).toBe("ERR_UNAVAILABLE");
    expect(mapped.cause).toBe(throttled);
    const refused = Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:1"), {
      code: "ECONNREFUSED",
    });
    expect(mapAwsError(refused, "get").code).toBe("ERR_UNAVAILABLE");
    const wrapped = new Error("request failed", { cause: refused });
    expect(mapAwsError(wrapped, "get").message).toMatch(/cannot reach DynamoDB \(ECONNREFUSED\)/);
    expect(
      mapAwsError(Object.assign(new Error("boom"), { $metadata: { httpStatusCode: 503 } }), "x")
        .code,
    ).toBe("ERR_UNAVAILABLE");
  });

  it("maps conditions, validation and credentials to their codes", () => {
    const named = (name: string) => Object.assign(new Error(name), { name });
    expect(mapAwsError(named("ConditionalCheckFailedException"), "set")).toBeInstanceOf(ETagError);
    expect(mapAwsError(named("ValidationException"), "set").code).toBe("ERR_INVALID_REQUEST");
    expect(mapAwsError(named("UnrecognizedClientException"), "set").code).toBe(
      "ERR_CONFIG_INVALID",
    );
    expect(mapAwsError(named("ResourceNotFoundException"), "set").code).toBe("ERR_NOT_FOUND");
    expect(mapAwsError(named("SomethingElse"), "set").code).toBe("ERR_INTERNAL");
    const kept = new ComponentError("ERR_TIMEOUT", "as is");
    expect(mapAwsError(kept, "set")).toBe(kept);
  });
});

describe("batch retries", () => {
  it("re-sends unprocessed items with backoff until none are left", async () => {
    const sent: number[][] = [];
    const delays: number[] = [];
    const left = await sendUntilProcessed(
      [1, 2, 3, 4],
      async (items) => {
        sent.push([...items]);
        return items.slice(Math.ceil(items.length / 2));
      },
      { maxAttempts: 8, baseDelayMs: 10, maxDelayMs: 40, sleep: async (ms) => delays.push(ms) },
    );
    expect(left).toEqual([]);
    expect(sent).toEqual([[1, 2, 3, 4], [3, 4], [4]]);
    expect(delays).toHaveLength(2);
    expect(delays[0]).toBeGreaterThanOrEqual(5);
    expect(delays[0]).toBeLessThanOrEqual(10);
    expect(delays[1]).toBeGreaterThanOrEqual(10);
    expect(delays[1]).toBeLessThanOrEqual(20);
  });

  it("gives up after maxAttempts and returns what is still unprocessed", async () => {
    let calls = 0;
    const left = await sendUntilProcessed(
      ["a", "b"],
      async (items) => {
        calls++;
        return items;
      },
      { maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 1, sleep: async () => undefined },
    );
    expect(calls).toBe(3);
    expect(left).toEqual(["a", "b"]);
  });

  it("caps the backoff and chunks by size", () => {
    const policy = { maxAttempts: 10, baseDelayMs: 25, maxDelayMs: 2000 };
    expect(backoffMs(1, policy, () => 1)).toBe(25);
    expect(backoffMs(20, policy, () => 1)).toBe(2000);
    expect(backoffMs(20, policy, () => 0)).toBe(1000);
    expect(chunk([1, 2, 3, 4, 5], 2)).toEqual([[1, 2], [3, 4], [5]]);
  });
});

describe("transaction planning", () => {
  const put = (
    key: string,
    value: string,
    condition: PlannedWrite["condition"] = { kind: "none" },
  ): PlannedWrite => ({
    op: "put",
    key,
    value: { S: value },
    ttlSeconds: undefined,
    condition,
  });
  const del = (
    key: string,
    condition: PlannedWrite["condition"] = { kind: "none" },
  ): PlannedWrite => ({
    op: "delete",
    key,
    condition,
  });

  it("keeps one write per key in first-seen order; the last write wins under the first condition", () => {
    const planned = planTransaction([
      put("a", "1", { kind: "etag", etag: "e" }),
      del("b"),
      put("a", "2"),
      put("b", "3", { kind: "absent" }),
    ]);
    expect(planned).toEqual([put("a", "2", { kind: "etag", etag: "e" }), put("b", "3")]);
  });

  it("fails the transaction when a later operation's condition cannot hold", () => {
    expect(() =>
      planTransaction([put("a", "1"), put("a", "2", { kind: "etag", etag: "x" })]),
    ).toThrow(ETagError);
    expect(() => planTransaction([put("a", "1"), put("a", "2", { kind: "absent" })])).toThrow(
      ETagError,
    );
    expect(() => planTransaction([del("a"), del("a", { kind: "etag", etag: "x" })])).toThrow(
      ETagError,
    );
  });

  it(`rejects more than ${MAX_TRANSACTION_ITEMS} distinct keys with ERR_INVALID_REQUEST naming the limit`, () => {
    const many = Array.from({ length: MAX_TRANSACTION_ITEMS + 1 }, (_, i) => put(`k${i}`, "v"));
    expect(() => planTransaction(many)).toThrow(/at most 100 distinct keys/);
    try {
      planTransaction(many);
    } catch (error) {
      expect((error as ComponentError).code).toBe("ERR_INVALID_REQUEST");
    }
    expect(planTransaction([...many.slice(0, 100), put("k0", "again")])).toHaveLength(100);
  });
});

describe("value attribute", () => {
  it("stores a JSON value as S and bytes as B, each read back byte-exact with its kind", () => {
    expect(toValueAttribute({ a: 1 })).toEqual({ S: '{"a":1}' });
    expect(fromValueAttribute({ S: '{"a":1}' })?.kind).toBe("json");
    // Bytes stay bytes even when they are valid UTF-8 (or JSON): the attribute type says so.
    const text = toValueAttribute(new Uint8Array([0xef, 0xbb, 0xbf, 0x41]));
    expect(text.B).toBeInstanceOf(Uint8Array);
    const read = fromValueAttribute(text);
    expect(read?.kind).toBe("bytes");
    expect([...(read?.data ?? [])]).toEqual([0xef, 0xbb, 0xbf, 0x41]);
    const bin = toValueAttribute(new Uint8Array([0xff, 0x00]));
    expect([...(fromValueAttribute(bin)?.data ?? [])]).toEqual([0xff, 0x00]);
    expect(fromValueAttribute(undefined)).toBeNull();
  });
});
