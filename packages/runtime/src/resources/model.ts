import { z } from "zod";

/** Where a resource came from, so start-up errors can name the file, document and line. */
export interface ResourceSource {
  file: string;
  /** 0-based index of the `---` document inside the file. */
  document: number;
  /** 1-based line of the document's start. */
  line: number;
}

const scalar = z.union([z.string(), z.number(), z.boolean()]).transform((v) => String(v));

const metadataItem = z.object({
  name: z.string().min(1, "is required"),
  value: z.union([scalar, z.null()]).optional(),
  secretKeyRef: z.object({ name: z.string().min(1), key: z.string().optional() }).optional(),
  envRef: z.string().min(1).optional(),
});
export type MetadataItem = z.infer<typeof metadataItem>;

const objectMeta = z.object({
  name: z.string().min(1, "is required"),
  namespace: z.string().optional(),
});

const scopes = z.array(z.string()).optional().default([]);

export const componentSchema = z.object({
  apiVersion: z.string().optional(),
  kind: z.literal("Component"),
  metadata: objectMeta,
  spec: z.object({
    type: z.string().regex(/^[a-z0-9]+\.[A-Za-z0-9.\-_]+$/, "must look like <block>.<impl>"),
    version: z.string().optional().default("v1"),
    metadata: z
      .array(metadataItem)
      .nullish()
      .transform((v) => v ?? []),
    initTimeout: z.string().optional(),
    ignoreErrors: z.union([z.boolean(), z.string()]).optional(),
  }),
  auth: z.object({ secretStore: z.string().optional() }).optional(),
  scopes,
});

const rule = z.object({ match: z.string().optional().default(""), path: z.string() });

const bulkSubscribe = z.object({
  enabled: z.union([z.boolean(), z.string()]).optional(),
  maxMessagesCount: z.coerce.number().int().optional(),
  maxAwaitDurationMs: z.coerce.number().int().optional(),
});
export type BulkSubscribeSettings = z.infer<typeof bulkSubscribe>;

export const subscriptionSchema = z.object({
  apiVersion: z.string().optional(),
  kind: z.literal("Subscription"),
  metadata: objectMeta,
  spec: z.object({
    pubsubname: z.string().min(1, "is required"),
    topic: z.string().min(1, "is required"),
    route: z.string().optional(),
    routes: z
      .object({ rules: z.array(rule).optional(), default: z.string().optional() })
      .optional(),
    deadLetterTopic: z.string().optional(),
    bulkSubscribe: bulkSubscribe.optional(),
    metadata: z.record(z.string(), scalar).optional(),
  }),
  scopes,
});

const duration = z.string().regex(/^(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+$|^0$/, "must be a duration");

const retryPolicy = z.object({
  policy: z.enum(["constant", "exponential"]).optional().default("constant"),
  duration: duration.optional(),
  maxInterval: duration.optional(),
  maxRetries: z.coerce.number().int().min(-1).optional(),
  matching: z
    .object({ httpStatusCodes: z.string().optional(), gRPCStatusCodes: z.string().optional() })
    .optional(),
});

const circuitBreaker = z.object({
  maxRequests: z.coerce.number().int().min(0).optional(),
  interval: duration.optional(),
  timeout: duration.optional(),
  trip: z.string().optional(),
});

const policyRef = z.object({
  timeout: z.string().optional(),
  retry: z.string().optional(),
  circuitBreaker: z.string().optional(),
});

/** An actor type's policies: where its breaker state lives, and how many per-id breakers stay. */
const actorPolicyRef = policyRef.extend({
  circuitBreakerScope: z.enum(["id", "type", "both"]).optional(),
  circuitBreakerCacheSize: z.coerce.number().int().min(0).optional(),
});

export const resiliencySchema = z.object({
  apiVersion: z.string().optional(),
  kind: z.literal("Resiliency"),
  metadata: objectMeta,
  spec: z.object({
    policies: z
      .object({
        timeouts: z.record(z.string(), duration).optional(),
        retries: z.record(z.string(), retryPolicy).optional(),
        circuitBreakers: z.record(z.string(), circuitBreaker).optional(),
      })
      .optional(),
    targets: z
      .object({
        apps: z.record(z.string(), policyRef).optional(),
        actors: z.record(z.string(), actorPolicyRef).optional(),
        components: z
          .record(
            z.string(),
            z.object({ outbound: policyRef.optional(), inbound: policyRef.optional() }),
          )
          .optional(),
      })
      .optional(),
  }),
  scopes,
});

/** One entry of a Configuration's `spec.api.allowed` / `spec.api.denied`. */
const apiAccessRule = z.object({
  name: z.string(),
  version: z.string().optional(),
  protocol: z.string().optional(),
});

export const configurationSchema = z.object({
  apiVersion: z.string().optional(),
  kind: z.literal("Configuration"),
  metadata: objectMeta,
  spec: z
    .object({
      tracing: z.record(z.string(), z.unknown()).optional(),
      metrics: z.record(z.string(), z.unknown()).optional(),
      api: z
        .object({
          allowed: z.array(apiAccessRule).optional(),
          denied: z.array(apiAccessRule).optional(),
        })
        .optional(),
      logging: z
        .object({
          apiLogging: z
            .object({
              enabled: z.union([z.boolean(), z.string()]).optional(),
              obfuscateURLs: z.union([z.boolean(), z.string()]).optional(),
              omitHealthChecks: z.union([z.boolean(), z.string()]).optional(),
            })
            .optional(),
        })
        .optional(),
      features: z.array(z.object({ name: z.string(), enabled: z.boolean() })).optional(),
      components: z.object({ deny: z.array(z.string()).optional() }).optional(),
      workflow: z
        .object({
          maxConcurrentWorkflowInvocations: z.coerce.number().int().optional(),
          maxConcurrentActivityInvocations: z.coerce.number().int().optional(),
        })
        .optional(),
      secrets: z
        .object({
          scopes: z
            .array(
              z.object({
                storeName: z.string(),
                defaultAccess: z.enum(["allow", "deny"]).optional(),
                allowedSecrets: z.array(z.string()).optional(),
                deniedSecrets: z.array(z.string()).optional(),
              }),
            )
            .optional(),
        })
        .optional(),
    })
    .passthrough()
    .optional()
    .default({}),
  scopes,
});

export interface ComponentResource {
  kind: "Component";
  name: string;
  namespace: string | undefined;
  type: string;
  version: string;
  metadata: MetadataItem[];
  initTimeoutMs: number;
  ignoreErrors: boolean;
  secretStore: string | undefined;
  scopes: string[];
  source: ResourceSource;
  /** 1-based line of each metadata item, by its name, for error messages. */
  metadataLines: Record<string, number>;
  /** 1-based line of other fields (`metadata.name`, `spec.type`, `spec.version`, ...), by path. */
  fieldLines: Record<string, number>;
}

export interface SubscriptionRule {
  match: string;
  path: string;
}

export interface SubscriptionResource {
  kind: "Subscription";
  name: string;
  pubsubname: string;
  topic: string;
  /** Tried in order; the default route is the last rule with an empty match. */
  rules: SubscriptionRule[];
  deadLetterTopic: string | undefined;
  bulkSubscribe:
    | { enabled: boolean; maxMessagesCount?: number; maxAwaitDurationMs?: number }
    | undefined;
  metadata: Record<string, string>;
  scopes: string[];
  source: ResourceSource;
}

export interface ResiliencyResource {
  kind: "Resiliency";
  name: string;
  spec: z.infer<typeof resiliencySchema>["spec"];
  scopes: string[];
  source: ResourceSource;
  /** Fields of the document the schema does not know (dropped by parsing), as dotted paths. */
  unknownFields?: string[];
}

export interface ConfigurationResource {
  kind: "Configuration";
  name: string;
  spec: z.infer<typeof configurationSchema>["spec"];
  scopes: string[];
  source: ResourceSource;
  /** Fields of the document the schema does not know (dropped by parsing), as dotted paths. */
  unknownFields?: string[];
}

/** Dapr's HTTPEndpoint (`dapr.io/v1alpha1`): an external service invoked by name or base URL. */
const secretOrValue = z.object({
  value: scalar.optional(),
  secretKeyRef: z.object({ name: z.string().min(1), key: z.string().optional() }).optional(),
});

export const httpEndpointSchema = z.object({
  apiVersion: z.string().optional(),
  kind: z.literal("HTTPEndpoint"),
  metadata: objectMeta,
  spec: z
    .object({
      baseUrl: z
        .string()
        .refine((v) => /^https?:\/\/[^/]/i.test(v) && URL.canParse(v), "must be an http(s) URL"),
      headers: z.array(metadataItem).nullish(),
      clientTLS: z
        .object({
          rootCA: secretOrValue.optional(),
          certificate: secretOrValue.optional(),
          privateKey: secretOrValue.optional(),
        })
        .passthrough()
        .nullish(),
    })
    .passthrough(),
  auth: z.object({ secretStore: z.string().optional() }).optional(),
  scopes,
});

/** A value given in place or read from the resource's `auth.secretStore`. */
export interface SecretOrValue {
  value?: string;
  secretKeyRef?: { name: string; key?: string };
}

export interface HttpEndpointResource {
  kind: "HTTPEndpoint";
  name: string;
  baseUrl: string;
  /** `spec.headers` given as plain values; sent on every call through the endpoint. */
  headers: Record<string, string>;
  /** `spec.headers` given as secretKeyRef, read from `secretStore` when the sidecar starts. */
  secretHeaders: (SecretOrValue & { name: string })[];
  /** `spec.clientTLS`: CA, client certificate and key, each a value or a secretKeyRef. */
  clientTLS?: { rootCA?: SecretOrValue; certificate?: SecretOrValue; privateKey?: SecretOrValue };
  /** `auth.secretStore`: where the secretKeyRefs are read. */
  secretStore?: string;
  /** Fields of the resource that are not applied (warned about by name at start). */
  unsupported: string[];
  scopes: string[];
  source: ResourceSource;
}

export interface Resources {
  components: ComponentResource[];
  subscriptions: SubscriptionResource[];
  resiliencies: ResiliencyResource[];
  configurations: ConfigurationResource[];
  httpEndpoints: HttpEndpointResource[];
}

export function emptyResources(): Resources {
  return {
    components: [],
    subscriptions: [],
    resiliencies: [],
    configurations: [],
    httpEndpoints: [],
  };
}
