import {
  BulkError,
  BulkItemError,
  ComponentError,
  ERROR_CODES,
  ETagError,
  toBytes,
} from "@outrig/core";
import { describe, expect, it } from "vitest";
import { keyPrefixFor } from "../src/components/state-keys.ts";
import {
  buildEnvelope,
  compileRules,
  ERROR_TABLE,
  mapError,
  readOutcome,
  routeEvent,
} from "../src/index.ts";

describe("CEL routing", async () => {
  const rules = await compileRules([
    { match: 'event.type == "order" && event.data.priority > 2', path: "urgent" },
    { match: 'event.data.tags.exists(t, t == "vip")', path: "/vip" },
    { match: "", path: "/default" },
  ]);
  it("routes by the first matching rule and adds a leading slash", () => {
    expect(routeEvent(rules, { type: "order", data: { priority: 3, tags: [] } })).toBe("/urgent");
    expect(routeEvent(rules, { type: "order", data: { priority: 1, tags: ["vip"] } })).toBe("/vip");
    expect(routeEvent(rules, { type: "other", data: {} })).toBe("/default");
  });
  it("treats a missing field as no match, and rejects expressions that do not parse", async () => {
    const missing = await compileRules([{ match: "event.nope.deeper == 1", path: "/x" }]);
    expect(routeEvent(missing, { type: "a" })).toBeUndefined();
    await expect(compileRules([{ match: "event.type ==", path: "/x" }])).rejects.toThrow(
      /invalid match expression/,
    );
  });
  it("cannot run JavaScript", async () => {
    const r = await compileRules([{ match: 'process.exit(1) == "x"', path: "/x" }]);
    expect(routeEvent(r, {})).toBeUndefined();
  });
});

describe("delivery outcomes", () => {
  const body = (text: string) => ({ status: 200, body: Buffer.from(text) });
  it.each([
    [body(""), "SUCCESS"],
    [body("not json"), "SUCCESS"],
    [body('{"other":1}'), "SUCCESS"],
    [body('{"status":"SUCCESS"}'), "SUCCESS"],
    [body('{"status":"RETRY"}'), "RETRY"],
    [body('{"status":"DROP"}'), "DROP"],
    [body('{"status":"WHATEVER"}'), "RETRY"],
    [{ status: 404, body: Buffer.from("") }, "DROP"],
    [{ status: 500, body: Buffer.from("") }, "RETRY"],
    [{ status: 302, body: Buffer.from("") }, "RETRY"],
  ])("%j → %s", (response, outcome) => {
    expect(readOutcome(response)).toBe(outcome);
  });
});

describe("error table", () => {
  it("maps ETag errors to 409/400 for save and delete, and everything else to the operation's default", () => {
    expect(mapError("stateSave", new ETagError("mismatch"))).toEqual({
      status: 409,
      errorCode: "ERR_STATE_SAVE",
    });
    expect(mapError("stateDelete", new ETagError("invalid"))).toEqual({
      status: 400,
      errorCode: "ERR_STATE_DELETE",
    });
    expect(
      mapError("stateSave", new BulkError([new BulkItemError("k", new ETagError("mismatch"))])),
    ).toEqual({ status: 409, errorCode: "ERR_STATE_SAVE" });
    expect(mapError("stateTransaction", new ComponentError("ERR_NOT_SUPPORTED", "x"))).toEqual({
      status: 500,
      errorCode: "ERR_STATE_STORE_NOT_SUPPORTED",
    });
    expect(mapError("stateGet", new Error("boom"))).toEqual({
      status: 500,
      errorCode: "ERR_STATE_GET",
    });
  });
  it("only names codes core defines", () => {
    for (const entry of Object.values(ERROR_TABLE)) {
      for (const code of Object.keys(entry.codes ?? {})) expect(ERROR_CODES).toContain(code);
    }
  });
});

describe("key prefixes", () => {
  it.each([
    [{}, "app||"],
    [{ keyPrefix: "appid" }, "app||"],
    [{ KEYPREFIX: "name" }, "store||"],
    [{ keyPrefix: "namespace" }, "ns.app||"],
    [{ keyPrefix: "none" }, ""],
    [{ keyPrefix: "shared" }, "shared||"],
  ])("%j → %s", (metadata, prefix) => {
    expect(keyPrefixFor(metadata, "store", "app", "ns")).toBe(prefix);
  });
});

describe("CloudEvent envelope", () => {
  it("keeps invalid JSON as a string and sets expiration from a TTL", () => {
    const e = buildEnvelope({
      topic: "t",
      pubsubName: "p",
      source: "a",
      data: toBytes("{bad"),
      contentType: "application/json",
      ttlInSeconds: 60,
    });
    expect(e.data).toBe("{bad");
    expect(Date.parse(e.expiration as string)).toBeGreaterThan(Date.now() + 50_000);
  });
  it("defaults the content type to text/plain", () => {
    const e = buildEnvelope({ topic: "t", pubsubName: "p", source: "a", data: toBytes("hi") });
    expect(e).toMatchObject({ datacontenttype: "text/plain", data: "hi" });
  });
});
