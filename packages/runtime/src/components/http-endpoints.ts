import { ConfigError, type ConfigIssue } from "@outrig/core";
import type { HttpEndpointResource, SecretOrValue } from "../resources/model.ts";
import { locate } from "../resources/parse.ts";

/** PEM material for calls through an HTTPEndpoint (`spec.clientTLS`). */
export interface EndpointTls {
  /** Trusted instead of the system's CAs. */
  ca?: string;
  /** A client certificate and its key, for mutual TLS. */
  cert?: string;
  key?: string;
}

/** An HTTPEndpoint with its secret headers and client TLS read: what invocation uses. */
export interface ResolvedHttpEndpoint extends HttpEndpointResource {
  /** Every header, plain and from secrets. Holds secrets: never log or expose it. */
  readonly headers: Record<string, string>;
  readonly tls?: EndpointTls;
}

/** Reads one key of a secret from a secret store; undefined when it does not exist. */
export type SecretReader = (
  store: string,
  name: string,
  key: string,
) => Promise<string | undefined>;

/**
 * Reads each endpoint's `secretKeyRef` headers and `clientTLS` (value or secretKeyRef) through the
 * endpoint's `auth.secretStore`, as daprd does before it serves. Every problem is reported at
 * once, naming the endpoint, the field and the secret (never its value).
 */
export async function resolveHttpEndpoints(
  endpoints: readonly HttpEndpointResource[],
  secret: SecretReader,
): Promise<ResolvedHttpEndpoint[]> {
  const issues: ConfigIssue[] = [];
  const resolved = await Promise.all(
    endpoints.map(async (e) => {
      const where = (field: string) =>
        locate(e.source, `${e.name} (HTTPEndpoint) ${field}`, e.source.line);
      const read = async (field: string, item: SecretOrValue): Promise<string | undefined> => {
        if (item.value !== undefined) return item.value;
        const ref = item.secretKeyRef;
        if (!ref) return undefined;
        const store = e.secretStore;
        if (!store) {
          issues.push({
            field: where(field),
            message: "secretKeyRef needs auth.secretStore naming a secret store",
          });
          return undefined;
        }
        const key = ref.key || ref.name;
        try {
          const value = await secret(store, ref.name, key);
          if (value === undefined)
            issues.push({
              field: where(field),
              message: `secret ${ref.name}/${key} not found in ${store}`,
            });
          return value;
        } catch (error) {
          issues.push({
            field: where(field),
            message: `cannot read secret ${ref.name}/${key} from ${store}: ${(error as Error).message}`,
          });
          return undefined;
        }
      };
      const headers = { ...e.headers };
      for (const h of e.secretHeaders) {
        const value = await read(`spec.headers.${h.name}`, h);
        if (value !== undefined) headers[h.name] = value;
      }
      let tls: EndpointTls | undefined;
      if (e.clientTLS) {
        const { rootCA, certificate, privateKey } = e.clientTLS;
        const ca = rootCA && (await read("spec.clientTLS.rootCA", rootCA));
        const cert = certificate && (await read("spec.clientTLS.certificate", certificate));
        const key = privateKey && (await read("spec.clientTLS.privateKey", privateKey));
        if (Boolean(certificate) !== Boolean(privateKey))
          issues.push({
            field: where(certificate ? "spec.clientTLS.privateKey" : "spec.clientTLS.certificate"),
            message: "certificate and privateKey go together",
          });
        if (!/^https:/i.test(e.baseUrl))
          issues.push({
            field: where("spec.clientTLS"),
            message: `clientTLS needs an https:// baseUrl (it is ${e.baseUrl})`,
          });
        tls = { ...(ca ? { ca } : {}), ...(cert ? { cert } : {}), ...(key ? { key } : {}) };
      }
      return { ...e, headers, ...(tls ? { tls } : {}) };
    }),
  );
  if (issues.length > 0) throw new ConfigError(issues, { component: "httpendpoints" });
  return resolved;
}
