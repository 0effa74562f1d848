import { ComponentError, type FilterNode, parseFilter, type Query } from "@outrig/core";

/**
 * Collects query parameters; every value from a request becomes a `$n` placeholder, never text
 * in the statement.
 */
export class Params {
  readonly values: unknown[] = [];

  add(value: unknown): string {
    this.values.push(value);
    return `$${this.values.length}`;
  }
}

/** `product.value` → the jsonb at that path of the item's value. */
function pathExpression(path: string, params: Params): string {
  if (path === "" || path.split(".").some((p) => p === "")) {
    throw new ComponentError(
      "ERR_INVALID_REQUEST",
      `invalid query: bad path ${JSON.stringify(path)}`,
    );
  }
  return `(value #> ${params.add(path.split("."))}::text[])`;
}

function jsonParam(value: unknown, params: Params): string {
  return `${params.add(JSON.stringify(value))}::jsonb`;
}

/**
 * Translates a parsed filter into a parameterized SQL condition over the jsonb `value` column.
 * Equality is jsonb equality (numbers compare by value, `15 = 15.0`); NEQ also matches items
 * without the field; ordering compares numbers numerically and strings bytewise, and never
 * matches a field of another type.
 */
export function filterToSql(node: FilterNode, params: Params): string {
  switch (node.op) {
    case "AND":
    case "OR":
      return `(${node.children.map((c) => filterToSql(c, params)).join(` ${node.op} `)})`;
    case "EQ":
      return `${pathExpression(node.path, params)} = ${jsonParam(node.value, params)}`;
    case "NEQ":
      return `${pathExpression(node.path, params)} IS DISTINCT FROM ${jsonParam(node.value, params)}`;
    case "IN": {
      const values = (node.value as unknown[]).map((v) => JSON.stringify(v));
      return `${pathExpression(node.path, params)} = ANY(${params.add(values)}::jsonb[])`;
    }
    default: {
      const operator = { GT: ">", GTE: ">=", LT: "<", LTE: "<=" }[node.op];
      const field = pathExpression(node.path, params);
      // CASE, not AND: SQL does not promise to evaluate the type check before the cast.
      if (typeof node.value === "number") {
        return `(CASE WHEN jsonb_typeof(${field}) = 'number' THEN (${field})::numeric END) ${operator} ${params.add(node.value)}::numeric`;
      }
      if (typeof node.value === "string") {
        return `(CASE WHEN jsonb_typeof(${field}) = 'string' THEN ${field} #>> '{}' END) COLLATE "C" ${operator} ${params.add(node.value)}::text COLLATE "C"`;
      }
      throw new ComponentError(
        "ERR_INVALID_REQUEST",
        `invalid query: ${node.op} needs a number or a string, got ${JSON.stringify(node.value)}`,
      );
    }
  }
}

/** The page token is the offset of the next page; Dapr's PostgreSQL store does the same. */
export function parsePageToken(token: string | undefined): number {
  if (token === undefined || token === "") return 0;
  if (!/^\d{1,15}$/.test(token)) {
    throw new ComponentError(
      "ERR_INVALID_REQUEST",
      `invalid query: bad page token ${JSON.stringify(token)}`,
    );
  }
  return Number(token);
}

export interface SqlQuery {
  where: string;
  orderBy: string;
  limit: number | undefined;
  offset: number;
}

/** Builds WHERE (filter), ORDER BY (sort, then key for a stable order) and paging of a query. */
export function buildQuery(query: Query, params: Params): SqlQuery {
  const node = parseFilter(query.filter);
  const where = node ? filterToSql(node, params) : "TRUE";
  const order: string[] = [];
  for (const s of query.sort ?? []) {
    if (s.order !== undefined && s.order !== "ASC" && s.order !== "DESC") {
      throw new ComponentError(
        "ERR_INVALID_REQUEST",
        `invalid query: sort order must be ASC or DESC`,
      );
    }
    order.push(
      `${pathExpression(s.key, params)} ${s.order === "DESC" ? "DESC" : "ASC"} NULLS LAST`,
    );
  }
  order.push("key ASC");
  const limit = query.page?.limit;
  if (limit !== undefined && (!Number.isInteger(limit) || limit < 0)) {
    throw new ComponentError(
      "ERR_INVALID_REQUEST",
      "invalid query: page.limit must be a non-negative integer",
    );
  }
  return {
    where,
    orderBy: order.join(", "),
    limit: limit && limit > 0 ? limit : undefined,
    offset: parsePageToken(query.page?.token),
  };
}
