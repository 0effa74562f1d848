import type { ApiContext, Handler } from "./context.ts";
import { type ApiError, apiError, fromComponentError } from "./errors.ts";
import { queryMetadata, sendError, sendJson, sendNoContent } from "./io.ts";

function storeError(ctx: ApiContext, name: string | undefined): ApiError | undefined {
  if (ctx.runtime.names("secretstores").length === 0) {
    return apiError(500, "ERR_SECRET_STORES_NOT_CONFIGURED", "secret store is not configured");
  }
  if (!name || !ctx.runtime.has("secretstores", name)) {
    return apiError(
      401,
      "ERR_SECRET_STORE_NOT_FOUND",
      `failed finding secret store with key ${name ?? ""}`,
    );
  }
  return undefined;
}

/** The Configuration's `secrets.scopes`: whether this app may read `secret` from `store`. */
function allowed(ctx: ApiContext, store: string, secret: string): boolean {
  for (const config of ctx.runtime.resources.configurations) {
    for (const scope of config.spec.secrets?.scopes ?? []) {
      if (scope.storeName !== store) continue;
      if (scope.deniedSecrets?.includes(secret)) return false;
      if (scope.allowedSecrets && scope.allowedSecrets.length > 0)
        return scope.allowedSecrets.includes(secret);
      return scope.defaultAccess !== "deny";
    }
  }
  return true;
}

export const getSecret: Handler = async (ctx, _req, res, params, query) => {
  const store = params.store as string;
  const invalid = storeError(ctx, store);
  if (invalid) return sendError(res, invalid);
  const name = params.key as string;
  if (!allowed(ctx, store, name)) {
    return sendError(
      res,
      apiError(
        403,
        "ERR_PERMISSION_DENIED",
        `access denied by policy to get ${name} from ${store}`,
      ),
    );
  }
  try {
    const secret = await ctx.runtime.secretStore(store).get(name, queryMetadata(query));
    if (!secret) return sendNoContent(res);
    sendJson(res, 200, secret);
  } catch (error) {
    sendError(
      res,
      fromComponentError(
        "secretGet",
        error,
        `failed getting secret with key ${name} from secret store ${store}`,
      ),
    );
  }
};

export const bulkGetSecret: Handler = async (ctx, _req, res, params, query) => {
  const store = params.store as string;
  const invalid = storeError(ctx, store);
  if (invalid) return sendError(res, invalid);
  try {
    const all = await ctx.runtime.secretStore(store).bulkGet(queryMetadata(query));
    const filtered = Object.fromEntries(
      Object.entries(all).filter(([name]) => allowed(ctx, store, name)),
    );
    sendJson(res, 200, filtered);
  } catch (error) {
    sendError(
      res,
      fromComponentError("secretGet", error, `failed getting secrets from secret store ${store}`),
    );
  }
};
