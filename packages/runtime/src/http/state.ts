import type { IncomingMessage } from "node:http";
import { apiError } from "../api/errors.ts";
import { parseJsonAs } from "../api/json.ts";
import {
  dataValue,
  requireStateStore,
  type StateItemInput,
  stateBulkGet,
  stateDelete,
  stateGet,
  stateQuery,
  stateSave,
  stateTransaction,
} from "../api/state.ts";
import type { Handler } from "./context.ts";
import {
  field,
  metadataHeaders,
  queryMetadata,
  queryValue,
  readBody,
  sendJson,
  sendNoContent,
  stringMap,
} from "./io.ts";

// Decoding and encoding only: every state rule lives in ../api/state.ts.

async function readJson(req: IncomingMessage): Promise<unknown> {
  return parseJsonAs(await readBody(req));
}

/** A JSON state item (fields matched as Go does) as the API's item. */
function itemOf(item: unknown): StateItemInput {
  if (item === null || typeof item !== "object" || Array.isArray(item)) {
    throw apiError("MALFORMED_REQUEST", { detail: "each state item must be an object" });
  }
  const options = field(item, "options");
  return {
    key: field(item, "key"),
    value: field(item, "value"),
    etag: field(item, "etag"),
    metadata: stringMap(field(item, "metadata")),
    options:
      options === null || typeof options !== "object"
        ? undefined
        : {
            concurrency: field(options, "concurrency"),
            consistency: field(options, "consistency"),
          },
  };
}

export const saveState: Handler = async (ctx, req, res, params, query) => {
  requireStateStore(ctx, params.store);
  const body = await readJson(req);
  if (!Array.isArray(body)) {
    throw apiError("MALFORMED_BODY", { detail: "expected a JSON array of state items" });
  }
  await stateSave(ctx, {
    store: params.store,
    items: body.map(itemOf),
    metadata: queryMetadata(query),
  });
  sendNoContent(res);
};

export const getState: Handler = async (ctx, _req, res, params, query) => {
  const got = await stateGet(ctx, {
    store: params.store,
    key: params.key,
    metadata: queryMetadata(query),
    consistency: queryValue(query, "consistency"),
  });
  if (!got.data) return sendNoContent(res);
  const headers: Record<string, string | number> = {
    "content-type": got.contentType ?? "application/json",
    "content-length": got.data.byteLength,
    ...metadataHeaders(got.metadata),
  };
  if (got.etag) headers.etag = got.etag;
  res.writeHead(200, headers);
  res.end(got.data);
};

export const bulkGetState: Handler = async (ctx, req, res, params, query) => {
  requireStateStore(ctx, params.store);
  const body = await readJson(req);
  const items = await stateBulkGet(ctx, {
    store: params.store,
    keys: field(body, "keys"),
    metadata: { ...stringMap(field(body, "metadata")), ...queryMetadata(query) },
    parallelism: Number(field(body, "parallelism") ?? 0) || 0,
  });
  sendJson(
    res,
    200,
    items.map(({ data, ...rest }) =>
      data ? { key: rest.key, data: dataValue(data), ...withoutKey(rest) } : rest,
    ),
  );
};

function withoutKey<T extends { key: string }>(item: T): Omit<T, "key"> {
  const { key: _key, ...rest } = item;
  return rest;
}

export const deleteState: Handler = async (ctx, req, res, params, query) => {
  await stateDelete(ctx, {
    store: params.store,
    key: params.key,
    etag: req.headers["if-match"],
    metadata: queryMetadata(query),
    options: {
      concurrency: queryValue(query, "concurrency"),
      consistency: queryValue(query, "consistency"),
    },
  });
  sendNoContent(res);
};

export const transactState: Handler = async (ctx, req, res, params, query) => {
  requireStateStore(ctx, params.store, "TRANSACTIONAL");
  const body = await readJson(req);
  const operations = field(body, "operations");
  if (!Array.isArray(operations)) {
    throw apiError("MALFORMED_BODY", { detail: "operations must be an array" });
  }
  await stateTransaction(ctx, {
    store: params.store,
    operations: operations.map((op) => {
      const request = field(op, "request");
      return {
        operation: field(op, "operation"),
        request:
          request === null || typeof request !== "object" ? { key: undefined } : itemOf(request),
      };
    }),
    metadata: { ...stringMap(field(body, "metadata")), ...queryMetadata(query) },
  });
  sendNoContent(res);
};

export const queryState: Handler = async (ctx, req, res, params, query) => {
  requireStateStore(ctx, params.store, "QUERY_API");
  const result = await stateQuery(ctx, {
    store: params.store,
    query: await readJson(req),
    metadata: queryMetadata(query),
  });
  if (result.results.length === 0) return sendNoContent(res);
  sendJson(res, 200, {
    results: result.results.map(({ data, ...r }) => ({
      key: r.key,
      data: dataValue(data),
      ...withoutKey(r),
    })),
    ...(result.token ? { token: result.token } : {}),
    ...(result.metadata ? { metadata: result.metadata } : {}),
  });
};
