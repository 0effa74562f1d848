import { parseJsonAs } from "../api/json.ts";
import { tryLock as apiTryLock, unlock as apiUnlock, lockRequestBody } from "../api/lock.ts";
import type { Handler } from "./context.ts";
import { field, readBody, sendJson } from "./io.ts";

// Decoding and encoding only: the lock rules live in ../api/lock.ts.

async function body(req: Parameters<Handler>[1]): Promise<object> {
  const bytes = await readBody(req);
  return lockRequestBody(bytes.byteLength === 0 ? {} : parseJsonAs(bytes));
}

export const tryLock: Handler = async (ctx, req, res, params) => {
  const b = await body(req);
  const result = await apiTryLock(ctx, {
    store: params.store,
    resourceId: field(b, "resourceId"),
    lockOwner: field(b, "lockOwner"),
    expiryInSeconds: field(b, "expiryInSeconds"),
  });
  sendJson(res, 200, { success: result.success });
};

export const unlock: Handler = async (ctx, req, res, params) => {
  const b = await body(req);
  const result = await apiUnlock(ctx, {
    store: params.store,
    resourceId: field(b, "resourceId"),
    lockOwner: field(b, "lockOwner"),
  });
  sendJson(res, 200, { status: result.status });
};
