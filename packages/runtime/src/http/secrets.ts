import { getSecret as apiGetSecret, getBulkSecret } from "../api/secrets.ts";
import type { Handler } from "./context.ts";
import { queryMetadata, sendJson, sendNoContent } from "./io.ts";

// Decoding and encoding only: the secret rules (scopes included) live in ../api/secrets.ts.

export const getSecret: Handler = async (ctx, _req, res, params, query) => {
  const secret = await apiGetSecret(ctx, {
    store: params.store,
    key: params.key as string,
    metadata: queryMetadata(query),
  });
  if (!secret) return sendNoContent(res);
  sendJson(res, 200, secret);
};

export const bulkGetSecret: Handler = async (ctx, _req, res, params, query) => {
  sendJson(
    res,
    200,
    await getBulkSecret(ctx, { store: params.store, metadata: queryMetadata(query) }),
  );
};
