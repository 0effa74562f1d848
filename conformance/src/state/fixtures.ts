import type { Metadata } from "@outrig/core";
import { JSON_METADATA } from "./context.ts";

export interface Fixture {
  suffix: string;
  value: unknown;
  metadata?: Metadata;
}

/** Dapr's regular fixtures (§1.7): scalars, bytes, strings that look like JSON, and objects. */
export function regularFixtures(tag: string): Fixture[] {
  return [
    { suffix: "int", value: 123 },
    { suffix: "bool", value: true },
    { suffix: "bytes", value: new Uint8Array([0x01]) },
    { suffix: "string-with-json", value: '{"a":"b"}' },
    { suffix: "string", value: "hello world" },
    { suffix: "empty-string", value: "" },
    { suffix: "struct", value: { message: `test<b>${tag}` }, metadata: JSON_METADATA },
    {
      suffix: "struct-operations",
      value: { product: { value: 15 }, status: "ACTIVE", message: `<b>message${tag}` },
      metadata: JSON_METADATA,
    },
    {
      suffix: "struct-operations-inactive",
      value: { product: { value: 12 }, status: "INACTIVE", message: `<b>message${tag}` },
      metadata: JSON_METADATA,
    },
    { suffix: "struct-2", value: { message: `<b>test${tag}` }, metadata: JSON_METADATA },
    { suffix: "struct-with-int", value: { message: 42 }, metadata: JSON_METADATA },
    { suffix: "to-be-deleted", value: "to be deleted" },
  ];
}

/** Dapr's bulk-only fixtures: five values plus two keys deleted later. */
export function bulkFixtures(): Fixture[] {
  return [
    { suffix: "bulk-int", value: 123 },
    { suffix: "bulk-bool", value: true },
    { suffix: "bulk-string", value: "hello world" },
    { suffix: "bulk-bytes", value: new Uint8Array([0x00, 0xff, 0x10]) },
    { suffix: "bulk-struct", value: { message: "bulk" }, metadata: JSON_METADATA },
    { suffix: "bulk-to-be-deleted", value: "to be deleted" },
    { suffix: "bulk-to-be-deleted-too", value: "to be deleted too" },
  ];
}

/**
 * A protobuf message (field 1 = varint -1 as int64: ten bytes ending in 0x01, with 0xff bytes)
 * as the actor runtime stores it; it must come back byte-exact.
 */
export const PROTO_BYTES = new Uint8Array([
  0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01, 0x12, 0x02, 0x68, 0x69,
]);
