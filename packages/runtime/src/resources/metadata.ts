import { randomUUID } from "node:crypto";
import { ConfigError, type ConfigIssue, type Metadata } from "@outrig/core";
import type { ComponentResource } from "./model.ts";
import { locate } from "./parse.ts";

export interface MetadataContext {
  appId: string;
  namespace?: string;
  env?: NodeJS.ProcessEnv;
  /** Reads one key of a secret from the named secret store. */
  secret?: (store: string, name: string, key: string) => Promise<string | undefined>;
}

const ENV_VAR = /\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g;

/**
 * Turns a Component's metadata list into Dapr's string map: `${ENV}` and `{uuid}`/`{appID}`/
 * `{namespace}`/`{podName}` are expanded in values, `envRef` reads the environment and
 * `secretKeyRef` reads the component's `auth.secretStore`. All problems are reported at once.
 */
export async function resolveComponentMetadata(
  component: ComponentResource,
  context: MetadataContext,
): Promise<Metadata> {
  const env = context.env ?? process.env;
  const out: Metadata = {};
  const issues: ConfigIssue[] = [];
  const where = (name: string): string =>
    locate(
      component.source,
      `${component.name} (${component.type}) spec.metadata.${name}`,
      component.metadataLines[name],
    );

  for (const item of component.metadata) {
    if (item.envRef !== undefined) {
      const value = env[item.envRef];
      if (value === undefined)
        issues.push({
          field: where(item.name),
          message: `environment variable ${item.envRef} is not set`,
        });
      else out[item.name] = value;
      continue;
    }
    if (item.secretKeyRef !== undefined) {
      const store = component.secretStore;
      if (!store) {
        issues.push({
          field: where(item.name),
          message: "secretKeyRef needs auth.secretStore naming a secret store",
        });
        continue;
      }
      if (!context.secret) {
        issues.push({ field: where(item.name), message: `secret store ${store} is not loaded` });
        continue;
      }
      const key = item.secretKeyRef.key || item.secretKeyRef.name;
      try {
        const value = await context.secret(store, item.secretKeyRef.name, key);
        if (value === undefined) {
          issues.push({
            field: where(item.name),
            message: `secret ${item.secretKeyRef.name}/${key} not found in ${store}`,
          });
        } else out[item.name] = value;
      } catch (error) {
        issues.push({
          field: where(item.name),
          message: `cannot read secret from ${store}: ${(error as Error).message}`,
        });
      }
      continue;
    }
    let value = item.value ?? "";
    value = value.replace(ENV_VAR, (_, name: string) => {
      const v = env[name];
      if (v === undefined) {
        issues.push({
          field: where(item.name),
          message: `environment variable ${name} is not set`,
        });
        return "";
      }
      return v;
    });
    value = value
      .replaceAll("{uuid}", randomUUID())
      .replaceAll("{appID}", context.appId)
      .replaceAll(
        "{namespace}",
        context.namespace ? `${context.namespace}.${context.appId}` : context.appId,
      )
      .replaceAll("{podName}", context.appId);
    out[item.name] = value;
  }
  if (issues.length > 0) throw new ConfigError(issues, { component: component.name });
  return out;
}
