import {
  type DeleteRequest,
  encodeValue,
  type Metadata,
  type SetRequest,
  type StateOptions,
  tryDecodeJson,
  validateStateOptions,
} from "@outrig/core";
import type { PrefixedStateStore } from "../state-keys.ts";
import type { ApiContext, Handler } from "./context.ts";
import { type ApiError, apiError, fromComponentError } from "./errors.ts";
import {
  field,
  metadataHeaders,
  queryMetadata,
  queryValue,
  readBody,
  sendError,
  sendJson,
  sendNoContent,
  stringMap,
} from "./io.ts";

function storeOf(ctx: ApiContext, name: string | undefined): PrefixedStateStore | ApiError {
  if (ctx.runtime.names("state").length === 0) {
    return apiError(500, "ERR_STATE_STORE_NOT_CONFIGURED", "state store is not configured");
  }
  if (!name || !ctx.runtime.has("state", name)) {
    return apiError(400, "ERR_STATE_STORE_NOT_FOUND", `state store ${name ?? ""} is not found`);
  }
  return ctx.runtime.stateStore(name);
}

function isError(v: unknown): v is ApiError {
  return (
    typeof (v as ApiError).errorCode === "string" && typeof (v as ApiError).status === "number"
  );
}

function badKey(key: unknown): ApiError | undefined {
  if (typeof key !== "string" || key === "")
    return apiError(400, "ERR_MALFORMED_REQUEST", "a state key is required");
  if (key.includes("||"))
    return apiError(
      400,
      "ERR_MALFORMED_REQUEST",
      `input key/keyPrefix '${key}' can't contain '||'`,
    );
  return undefined;
}

async function readJson(req: Parameters<Handler>[1]): Promise<{ value: unknown } | ApiError> {
  const body = await readBody(req);
  try {
    return { value: JSON.parse(body.toString("utf8")) };
  } catch (error) {
    return apiError(
      400,
      "ERR_MALFORMED_REQUEST",
      `failed deserializing HTTP body: ${(error as Error).message}`,
    );
  }
}

function stateOptions(value: unknown): StateOptions | undefined {
  if (value === null || typeof value !== "object") return undefined;
  const concurrency = field(value, "concurrency");
  const consistency = field(value, "consistency");
  const out: StateOptions = {};
  if (typeof concurrency === "string" && concurrency)
    out.concurrency = concurrency as StateOptions["concurrency"];
  if (typeof consistency === "string" && consistency)
    out.consistency = consistency as StateOptions["consistency"];
  return out;
}

function etagOf(value: unknown): string | undefined {
  if (typeof value === "string") return value;
  // Older SDKs send `{"value": "<etag>"}`.
  const inner = field(value, "value");
  return typeof inner === "string" ? inner : undefined;
}

/** A save item as a SetRequest, or the error Dapr answers for it. */
function toSetRequest(item: unknown, query: Metadata): SetRequest | ApiError {
  if (item === null || typeof item !== "object" || Array.isArray(item)) {
    return apiError(400, "ERR_MALFORMED_REQUEST", "each state item must be an object");
  }
  const key = field(item, "key");
  const invalid = badKey(key);
  if (invalid) return invalid;
  const options = stateOptions(field(item, "options"));
  const etag = etagOf(field(item, "etag"));
  return {
    key: key as string,
    value: encodeValue(field(item, "value")),
    ...(etag ? { etag } : {}),
    metadata: { ...stringMap(field(item, "metadata")), ...query },
    ...(options ? { options } : {}),
  };
}

export const saveState: Handler = async (ctx, req, res, params, query) => {
  const store = storeOf(ctx, params.store);
  if (isError(store)) return sendError(res, store);
  const body = await readJson(req);
  if (isError(body)) return sendError(res, body);
  if (!Array.isArray(body.value)) {
    return sendError(
      res,
      apiError(
        400,
        "ERR_MALFORMED_REQUEST",
        "failed deserializing HTTP body: expected a JSON array of state items",
      ),
    );
  }
  const qm = queryMetadata(query);
  const requests: SetRequest[] = [];
  for (const item of body.value) {
    const r = toSetRequest(item, qm);
    if (isError(r)) return sendError(res, r);
    requests.push(r);
  }
  try {
    for (const r of requests) validateStateOptions(r.options);
    if (requests.length === 1) await store.set(requests[0] as SetRequest);
    else if (requests.length > 1) await store.bulkSet(requests);
  } catch (error) {
    return sendError(
      res,
      fromComponentError("stateSave", error, `failed saving state in state store ${params.store}`),
    );
  }
  sendNoContent(res);
};

export const getState: Handler = async (ctx, _req, res, params, query) => {
  const store = storeOf(ctx, params.store);
  if (isError(store)) return sendError(res, store);
  const invalid = badKey(params.key);
  if (invalid) return sendError(res, invalid);
  const consistency = queryValue(query, "consistency");
  let got: Awaited<ReturnType<PrefixedStateStore["get"]>>;
  try {
    got = await store.get({
      key: params.key as string,
      metadata: queryMetadata(query),
      ...(consistency ? { options: { consistency: consistency as "strong" | "eventual" } } : {}),
    });
  } catch (error) {
    return sendError(
      res,
      fromComponentError(
        "stateGet",
        error,
        `fail to get ${params.key} from state store ${params.store}`,
      ),
    );
  }
  if (got.data === null || got.data === undefined) return sendNoContent(res);
  const headers: Record<string, string | number> = {
    "content-type": got.contentType ?? "application/json",
    "content-length": got.data.byteLength,
    ...metadataHeaders(got.metadata),
  };
  if (got.etag) headers.etag = got.etag;
  res.writeHead(200, headers);
  res.end(got.data);
};

/** Bulk-get and query items carry `data` as JSON when it is JSON, else as a string. */
function dataValue(data: Uint8Array): unknown {
  const decoded = tryDecodeJson(data);
  return decoded === undefined ? Buffer.from(data).toString("utf8") : decoded;
}

export const bulkGetState: Handler = async (ctx, req, res, params, query) => {
  const store = storeOf(ctx, params.store);
  if (isError(store)) return sendError(res, store);
  const body = await readJson(req);
  if (isError(body)) return sendError(res, body);
  const keys = field(body.value, "keys");
  if (!Array.isArray(keys) || keys.some((k) => typeof k !== "string")) {
    return sendError(
      res,
      apiError(
        400,
        "ERR_MALFORMED_REQUEST",
        "failed deserializing HTTP body: keys must be an array of strings",
      ),
    );
  }
  for (const k of keys) {
    const invalid = badKey(k);
    if (invalid) return sendError(res, invalid);
  }
  const metadata = { ...stringMap(field(body.value, "metadata")), ...queryMetadata(query) };
  const parallelism = Number(field(body.value, "parallelism") ?? 0) || 0;
  try {
    const items = await store.bulkGet(
      (keys as string[]).map((key) => ({ key, metadata })),
      { parallelism },
    );
    const byKey = new Map(items.map((i) => [i.key, i]));
    sendJson(
      res,
      200,
      (keys as string[]).map((key) => {
        const item = byKey.get(key);
        if (!item) return { key };
        const out: Record<string, unknown> = { key };
        if (item.data) out.data = dataValue(item.data);
        if (item.etag) out.etag = item.etag;
        if (item.metadata && Object.keys(item.metadata).length > 0) out.metadata = item.metadata;
        if (item.error) out.error = item.error;
        return out;
      }),
    );
  } catch (error) {
    sendError(
      res,
      fromComponentError(
        "stateBulkGet",
        error,
        `failed getting state in bulk from state store ${params.store}`,
      ),
    );
  }
};

export const deleteState: Handler = async (ctx, req, res, params, query) => {
  const store = storeOf(ctx, params.store);
  if (isError(store)) return sendError(res, store);
  const invalid = badKey(params.key);
  if (invalid) return sendError(res, invalid);
  const etag = req.headers["if-match"];
  const options = stateOptions({
    concurrency: queryValue(query, "concurrency"),
    consistency: queryValue(query, "consistency"),
  });
  const request: DeleteRequest = {
    key: params.key as string,
    metadata: queryMetadata(query),
    ...(etag ? { etag } : {}),
    ...(options ? { options } : {}),
  };
  try {
    validateStateOptions(request.options);
    await store.delete(request);
  } catch (error) {
    return sendError(
      res,
      fromComponentError("stateDelete", error, `failed deleting state with key ${params.key}`),
    );
  }
  sendNoContent(res);
};

export const transactState: Handler = async (ctx, req, res, params, query) => {
  const store = storeOf(ctx, params.store);
  if (isError(store)) return sendError(res, store);
  if (!store.capabilities.has("TRANSACTIONAL")) {
    return sendError(
      res,
      apiError(
        500,
        "ERR_STATE_STORE_NOT_SUPPORTED",
        `state store ${params.store} doesn't support transactions`,
      ),
    );
  }
  const body = await readJson(req);
  if (isError(body)) return sendError(res, body);
  const operations = field(body.value, "operations");
  if (!Array.isArray(operations)) {
    return sendError(
      res,
      apiError(
        400,
        "ERR_MALFORMED_REQUEST",
        "failed deserializing HTTP body: operations must be an array",
      ),
    );
  }
  const max = store.maxTransactionSize;
  if (max !== undefined && operations.length > max) {
    return sendError(
      res,
      apiError(
        400,
        "ERR_STATE_STORE_TOO_MANY_TRANSACTIONS",
        `the transaction contains ${operations.length} operations, the store accepts at most ${max}`,
      ),
    );
  }
  const shared = { ...stringMap(field(body.value, "metadata")), ...queryMetadata(query) };
  type Op = Parameters<PrefixedStateStore["transact"]>[0]["operations"][number];
  const ops: Op[] = [];
  for (const op of operations) {
    const kind = field(op, "operation");
    const request = field(op, "request");
    if (kind !== "upsert" && kind !== "delete") {
      return sendError(
        res,
        apiError(
          400,
          "ERR_NOT_SUPPORTED_STATE_OPERATION",
          `operation type ${String(kind)} not supported`,
        ),
      );
    }
    const key = field(request, "key");
    const invalid = badKey(key);
    if (invalid) return sendError(res, invalid);
    const metadata = { ...shared, ...stringMap(field(request, "metadata")) };
    const etag = etagOf(field(request, "etag"));
    const options = stateOptions(field(request, "options"));
    const base = {
      key: key as string,
      metadata,
      ...(etag ? { etag } : {}),
      ...(options ? { options } : {}),
    };
    ops.push(
      kind === "upsert"
        ? { operation: "upsert", request: { ...base, value: encodeValue(field(request, "value")) } }
        : { operation: "delete", request: base },
    );
  }
  try {
    for (const op of ops) validateStateOptions(op.request.options);
    await store.transact({ operations: ops, metadata: shared });
  } catch (error) {
    return sendError(
      res,
      fromComponentError("stateTransaction", error, `error while executing state transaction`),
    );
  }
  sendNoContent(res);
};

export const queryState: Handler = async (ctx, req, res, params, query) => {
  const store = storeOf(ctx, params.store);
  if (isError(store)) return sendError(res, store);
  if (!store.capabilities.has("QUERY_API")) {
    return sendError(
      res,
      apiError(
        500,
        "ERR_STATE_STORE_NOT_SUPPORTED",
        `state store ${params.store} doesn't support query`,
      ),
    );
  }
  const body = await readJson(req);
  if (isError(body)) return sendError(res, body);
  const q = body.value as Record<string, unknown>;
  try {
    const result = await store.query({
      query: {
        filter: field(q, "filter") as never,
        sort: field(q, "sort") as never,
        page: field(q, "page") as never,
      },
      metadata: queryMetadata(query),
    });
    if (result.results.length === 0) return sendNoContent(res);
    sendJson(res, 200, {
      results: result.results.map((r) => ({
        key: r.key,
        data: dataValue(r.data),
        ...(r.etag ? { etag: r.etag } : {}),
        ...(r.error ? { error: r.error } : {}),
      })),
      ...(result.token ? { token: result.token } : {}),
      ...(result.metadata ? { metadata: result.metadata } : {}),
    });
  } catch (error) {
    sendError(
      res,
      fromComponentError("stateQuery", error, `failed query in state store ${params.store}`),
    );
  }
};
