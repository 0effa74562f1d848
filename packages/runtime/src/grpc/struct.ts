import type { Struct } from "./generated/google/protobuf/Struct.ts";
import type { Value } from "./generated/google/protobuf/Value.ts";

/** A JSON value as google.protobuf.Value (as proto-loader takes it). */
export function toValue(value: unknown): Value {
  if (value === null || value === undefined) return { nullValue: "NULL_VALUE" };
  if (typeof value === "string") return { stringValue: value };
  if (typeof value === "number") return { numberValue: value };
  if (typeof value === "boolean") return { boolValue: value };
  if (Array.isArray(value)) return { listValue: { values: value.map(toValue) } };
  if (typeof value === "object") return { structValue: toStruct(value as Record<string, unknown>) };
  return { stringValue: String(value) };
}

/** A JSON object as google.protobuf.Struct. */
export function toStruct(object: Record<string, unknown>): Struct {
  const fields: Record<string, Value> = {};
  for (const [k, v] of Object.entries(object)) fields[k] = toValue(v);
  return { fields };
}
