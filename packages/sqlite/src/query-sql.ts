import type { SQLInputValue } from "node:sqlite";
import { ComponentError, type FilterNode, type QuerySort } from "@outrig/core";

export interface SqlFragment {
  sql: string;
  params: SQLInputValue[];
}

/**
 * A JSON value at a dotted path of the row's document. `json_extract` raises on text that is not
 * JSON, and WHERE terms may be evaluated in any order, so the validity check sits inside the
 * expression rather than beside it.
 */
function extract(path: string, params: SQLInputValue[]): string {
  params.push(jsonPath(path));
  return "(CASE WHEN json_valid(value) THEN json_extract(value, ?) END)";
}

/** `product.value` → `$."product"."value"`; quoting keeps keys with dashes or spaces intact. */
export function jsonPath(path: string): string {
  const parts = path.split(".");
  if (parts.some((p) => p === "" || p.includes('"') || p.includes("\\"))) {
    throw new ComponentError(
      "ERR_INVALID_REQUEST",
      `invalid query: bad key path ${JSON.stringify(path)}`,
    );
  }
  return `$${parts.map((p) => `."${p}"`).join("")}`;
}

/**
 * A filter value as json_extract returns the same JSON value: numbers and strings as themselves,
 * booleans as 1/0, objects and arrays as minified JSON text.
 */
function sqlValue(value: unknown, params: SQLInputValue[]): string {
  if (typeof value === "number" || typeof value === "string") {
    params.push(value);
    return "?";
  }
  if (typeof value === "boolean") {
    params.push(value ? 1 : 0);
    return "?";
  }
  params.push(JSON.stringify(value));
  return "json(?)";
}

const COMPARE = { GT: ">", GTE: ">=", LT: "<", LTE: "<=" } as const;

/** Translates a parsed Dapr filter into a WHERE expression over the `value` column. */
export function filterToSql(node: FilterNode | undefined): SqlFragment {
  const params: SQLInputValue[] = [];
  const sql = node ? build(node, params) : "1";
  return { sql, params };
}

function build(node: FilterNode, params: SQLInputValue[]): string {
  switch (node.op) {
    case "AND":
    case "OR":
      return `(${node.children.map((c) => build(c, params)).join(` ${node.op} `)})`;
    case "EQ":
      if (node.value === null || node.value === undefined)
        return `${extract(node.path, params)} IS NULL`;
      return `${extract(node.path, params)} = ${sqlValue(node.value, params)}`;
    case "NEQ": {
      // As core's in-process matcher: a document without the field is "not equal".
      if (node.value === null || node.value === undefined)
        return `${extract(node.path, params)} IS NOT NULL`;
      return `${extract(node.path, params)} IS NOT ${sqlValue(node.value, params)}`;
    }
    case "IN": {
      const values = node.value as unknown[];
      const present = values.filter((v) => v !== null && v !== undefined);
      const terms: string[] = [];
      if (present.length > 0) {
        const target = extract(node.path, params);
        terms.push(`${target} IN (${present.map((v) => sqlValue(v, params)).join(", ")})`);
      }
      if (present.length !== values.length) terms.push(`${extract(node.path, params)} IS NULL`);
      return terms.length === 0 ? "0" : `(${terms.join(" OR ")})`;
    }
    default: {
      if (node.value === null || node.value === undefined) return "0";
      return `${extract(node.path, params)} ${COMPARE[node.op]} ${sqlValue(node.value, params)}`;
    }
  }
}

/** ORDER BY for the requested sort; the key breaks ties so pages are deterministic. */
export function sortToSql(sort: readonly QuerySort[] | undefined): SqlFragment {
  const params: SQLInputValue[] = [];
  const terms = (sort ?? []).map((s) => {
    const order = (s.order ?? "ASC").toUpperCase();
    if (order !== "ASC" && order !== "DESC") {
      throw new ComponentError(
        "ERR_INVALID_REQUEST",
        `invalid query: sort order must be ASC or DESC, got ${s.order}`,
      );
    }
    return `${extract(s.key, params)} ${order} NULLS LAST`;
  });
  terms.push("key ASC");
  return { sql: terms.join(", "), params };
}
