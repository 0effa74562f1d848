import type { Metadata } from "@outrig/core";
import type { ApiContext } from "./context.ts";
import { apiError, fromComponentError } from "./errors.ts";

export interface GetSecretRequest {
  store: string | undefined;
  key: string;
  metadata?: Metadata;
}

export interface GetBulkSecretRequest {
  store: string | undefined;
  metadata?: Metadata;
}

function requireSecretStore(ctx: ApiContext, name: string | undefined): string {
  if (ctx.runtime.names("secretstores").length === 0)
    throw apiError("SECRET_STORES_NOT_CONFIGURED");
  if (!name || !ctx.runtime.has("secretstores", name)) {
    throw apiError("SECRET_STORE_NOT_FOUND", { store: name ?? "" });
  }
  return name;
}

/** The Configuration's `secrets.scopes`: whether this app may read `secret` from `store`. */
function allowed(ctx: ApiContext, store: string, secret: string): boolean {
  for (const config of ctx.runtime.resources.configurations) {
    for (const scope of config.spec.secrets?.scopes ?? []) {
      if (scope.storeName !== store) continue;
      // daprd's order: a non-empty allow list alone decides, then the deny list, then the default.
      if (scope.allowedSecrets && scope.allowedSecrets.length > 0)
        return scope.allowedSecrets.includes(secret);
      if (scope.deniedSecrets?.includes(secret)) return false;
      return scope.defaultAccess !== "deny";
    }
  }
  return true;
}

/** The secret's values by name, or `undefined` when the store has no such secret. */
export async function getSecret(
  ctx: ApiContext,
  request: GetSecretRequest,
): Promise<Record<string, string> | undefined> {
  const store = requireSecretStore(ctx, request.store);
  const { key } = request;
  if (!allowed(ctx, store, key)) throw apiError("SECRET_PERMISSION_DENIED", { key, store });
  try {
    const secret = await ctx.runtime.secretStore(store).get(key, request.metadata ?? {});
    return secret ?? undefined;
  } catch (error) {
    throw fromComponentError("secretGet", error, { key, store });
  }
}

/** Every secret this app may read, by secret name. */
export async function getBulkSecret(
  ctx: ApiContext,
  request: GetBulkSecretRequest,
): Promise<Record<string, Record<string, string>>> {
  const store = requireSecretStore(ctx, request.store);
  try {
    const all = await ctx.runtime.secretStore(store).bulkGet(request.metadata ?? {});
    return Object.fromEntries(Object.entries(all).filter(([name]) => allowed(ctx, store, name)));
  } catch (error) {
    throw fromComponentError("secretBulkGet", error, { store });
  }
}
