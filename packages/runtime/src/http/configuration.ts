import {
  getConfiguration as apiGetConfiguration,
  subscribeConfiguration as apiSubscribeConfiguration,
  unsubscribeConfiguration as apiUnsubscribeConfiguration,
} from "../api/configuration.ts";
import type { Handler } from "./context.ts";
import { type Query, queryMetadata, sendJson } from "./io.ts";

// Decoding and encoding only: the configuration rules live in ../api/configuration.ts.

/** `?key=a&key=b`, as daprd reads them. */
function keysOf(query: Query): string[] {
  const v = query.key;
  return v === undefined ? [] : Array.isArray(v) ? v : [v];
}

export const getConfiguration: Handler = async (ctx, _req, res, params, query) => {
  const items = await apiGetConfiguration(ctx, {
    store: params.store,
    keys: keysOf(query),
    metadata: queryMetadata(query),
  });
  sendJson(res, 200, items);
};

export const subscribeConfiguration: Handler = async (ctx, _req, res, params, query) => {
  const id = await apiSubscribeConfiguration(ctx, {
    store: params.store,
    keys: keysOf(query),
    metadata: queryMetadata(query),
  });
  sendJson(res, 200, { id });
};

export const unsubscribeConfiguration: Handler = async (ctx, _req, res, params) => {
  await apiUnsubscribeConfiguration(ctx, { store: params.store, id: params.id as string });
  sendJson(res, 200, { ok: true });
};
