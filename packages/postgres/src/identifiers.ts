import { ConfigError } from "@outrig/core";

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;

/**
 * Validates a table name (`table` or `schema.table`) and quotes it. Names are folded to lower
 * case before quoting, which is what PostgreSQL does with the unquoted names Dapr uses, so both
 * point at the same table; quoting then keeps reserved words (`order`, `user`) usable.
 */
export function quoteTableName(name: string, field: string, component: string): string {
  const parts = name.split(".");
  if (parts.length > 2 || !parts.every((p) => IDENTIFIER.test(p))) {
    throw new ConfigError(
      [
        {
          field,
          message: `must be a table name (letters, digits, _; optionally schema.table), got ${JSON.stringify(name)}`,
        },
      ],
      { component },
    );
  }
  return parts.map((p) => `"${p.toLowerCase()}"`).join(".");
}

/** The unqualified, unquoted table name, for naming indexes and metadata keys. */
export function bareTableName(name: string): string {
  return (name.split(".").at(-1) as string).toLowerCase();
}
