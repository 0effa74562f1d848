import { ComponentError } from "./errors.ts";

/** Dapr's state query filter: one operator per object, values keyed by dotted JSON path. */
export type QueryFilter =
  | { EQ: Record<string, unknown> }
  | { NEQ: Record<string, unknown> }
  | { GT: Record<string, unknown> }
  | { GTE: Record<string, unknown> }
  | { LT: Record<string, unknown> }
  | { LTE: Record<string, unknown> }
  | { IN: Record<string, unknown[]> }
  | { AND: QueryFilter[] }
  | { OR: QueryFilter[] };

export interface QuerySort {
  key: string;
  order?: "ASC" | "DESC";
}

export interface Query {
  filter?: QueryFilter | Record<string, never>;
  sort?: QuerySort[];
  page?: { limit?: number; token?: string };
}

const COMPARISONS = ["EQ", "NEQ", "GT", "GTE", "LT", "LTE", "IN"] as const;
export type QueryComparison = (typeof COMPARISONS)[number];

/** A parsed filter node: either a comparison on one path or a boolean combination. */
export type FilterNode =
  | { op: QueryComparison; path: string; value: unknown }
  | { op: "AND" | "OR"; children: FilterNode[] };

/** Validates a Dapr filter and turns it into a tree; throws ERR_INVALID_REQUEST naming the fault. */
export function parseFilter(filter: unknown): FilterNode | undefined {
  if (filter === undefined || filter === null) return undefined;
  if (typeof filter !== "object" || Array.isArray(filter)) {
    throw invalid("filter must be an object");
  }
  const entries = Object.entries(filter as Record<string, unknown>);
  if (entries.length === 0) return undefined;
  if (entries.length !== 1) throw invalid("a filter object must have exactly one operator");
  const [op, arg] = entries[0] as [string, unknown];
  const upper = op.toUpperCase();
  if (upper === "AND" || upper === "OR") {
    if (!Array.isArray(arg) || arg.length < 1) throw invalid(`${upper} needs an array of filters`);
    return {
      op: upper,
      children: arg.map((child) => {
        const node = parseFilter(child);
        if (!node) throw invalid(`${upper} contains an empty filter`);
        return node;
      }),
    };
  }
  if (!(COMPARISONS as readonly string[]).includes(upper)) throw invalid(`unknown operator ${op}`);
  if (typeof arg !== "object" || arg === null || Array.isArray(arg)) {
    throw invalid(`${upper} needs an object {path: value}`);
  }
  const pairs = Object.entries(arg as Record<string, unknown>);
  if (pairs.length !== 1) throw invalid(`${upper} needs exactly one path`);
  const [path, value] = pairs[0] as [string, unknown];
  if (upper === "IN" && !Array.isArray(value)) throw invalid("IN needs an array of values");
  return { op: upper as QueryComparison, path, value };
}

function invalid(message: string): ComponentError {
  return new ComponentError("ERR_INVALID_REQUEST", `invalid query: ${message}`);
}

/** Reads a dotted path (`product.value`) from a decoded JSON document. */
export function valueAtPath(doc: unknown, path: string): unknown {
  let cur: unknown = doc;
  for (const part of path.split(".")) {
    if (cur === null || typeof cur !== "object") return undefined;
    cur = (cur as Record<string, unknown>)[part];
  }
  return cur;
}

/** Orders JSON scalars: numbers numerically, everything else by string; `undefined` sorts last. */
export function compareJson(a: unknown, b: unknown): number {
  if (a === b) return 0;
  if (a === undefined) return 1;
  if (b === undefined) return -1;
  if (typeof a === "number" && typeof b === "number") return a - b;
  const sa = typeof a === "string" ? a : JSON.stringify(a);
  const sb = typeof b === "string" ? b : JSON.stringify(b);
  return sa < sb ? -1 : sa > sb ? 1 : 0;
}

function equalJson(a: unknown, b: unknown): boolean {
  // A number equals itself or its numeric text, never null, "", false or [] (which Number() makes 0).
  if (typeof a === "number" && typeof b === "number") return a === b;
  if (typeof a === "number" && typeof b === "string") return isNumericText(b) && a === Number(b);
  if (typeof a === "string" && typeof b === "number") return isNumericText(a) && Number(a) === b;
  return JSON.stringify(a) === JSON.stringify(b);
}

function isNumericText(text: string): boolean {
  return text.trim() !== "" && Number.isFinite(Number(text));
}

/** Evaluates a filter against a decoded document, for stores that filter in process. */
export function matchesFilter(node: FilterNode | undefined, doc: unknown): boolean {
  if (!node) return true;
  switch (node.op) {
    case "AND":
      return node.children.every((c) => matchesFilter(c, doc));
    case "OR":
      return node.children.some((c) => matchesFilter(c, doc));
    case "IN":
      return (node.value as unknown[]).some((v) => equalJson(valueAtPath(doc, node.path), v));
    case "EQ":
      return equalJson(valueAtPath(doc, node.path), node.value);
    case "NEQ":
      return !equalJson(valueAtPath(doc, node.path), node.value);
    default: {
      const actual = valueAtPath(doc, node.path);
      if (actual === undefined || actual === null) return false;
      const c = compareJson(actual, node.value);
      if (node.op === "GT") return c > 0;
      if (node.op === "GTE") return c >= 0;
      if (node.op === "LT") return c < 0;
      return c <= 0;
    }
  }
}
