import type { AttributeValue } from "@aws-sdk/client-dynamodb";
import type { ETagError } from "@outrig/core";
import { componentErrors } from "@outrig/core/kit";
import { COMPONENT_TYPE } from "./options.ts";

const errors = componentErrors(COMPONENT_TYPE);

/** What must hold for a write to apply: nothing, the caller's ETag, or no live item (first-write). */
export type Condition = { kind: "none" } | { kind: "etag"; etag: string } | { kind: "absent" };

export interface PlannedPut {
  op: "put";
  key: string;
  value: AttributeValue;
  ttlSeconds: number | undefined;
  condition: Condition;
}

export interface PlannedDelete {
  op: "delete";
  key: string;
  condition: Condition;
}

export type PlannedWrite = PlannedPut | PlannedDelete;

/** DynamoDB's TransactWriteItems limit. */
export const MAX_TRANSACTION_ITEMS = 100;

function mismatch(key: string, why: string): ETagError {
  return errors.etag("mismatch", `transaction: ${why} for key ${JSON.stringify(key)}`);
}

/**
 * Folds an ordered list of operations into one write per key, as TransactWriteItems accepts at
 * most one action per item. Applying operations in order means: the first operation on a key is
 * checked against the stored item, and later ones against what the transaction itself left there
 * (a fresh ETag no caller can know, or nothing). So a later ETag condition can never hold, a later
 * first-write holds only after a delete, and the last write wins, guarded by the first condition.
 */
export function planTransaction(writes: readonly PlannedWrite[]): PlannedWrite[] {
  const byKey = new Map<string, PlannedWrite>();
  for (const write of writes) {
    const prior = byKey.get(write.key);
    if (!prior) {
      byKey.set(write.key, write);
      continue;
    }
    if (write.condition.kind === "etag") {
      throw mismatch(
        write.key,
        "an etag cannot match a value written earlier in the same transaction",
      );
    }
    if (write.condition.kind === "absent" && prior.op === "put") {
      throw mismatch(write.key, "first-write after an earlier write in the same transaction");
    }
    byKey.set(write.key, { ...write, condition: prior.condition });
  }
  const planned = [...byKey.values()];
  if (planned.length > MAX_TRANSACTION_ITEMS) {
    throw errors.error(
      "ERR_INVALID_REQUEST",
      `a transaction may touch at most ${MAX_TRANSACTION_ITEMS} distinct keys (DynamoDB TransactWriteItems limit); this one touches ${planned.length}`,
      { details: { limit: MAX_TRANSACTION_ITEMS, keys: planned.length } },
    );
  }
  return planned;
}
