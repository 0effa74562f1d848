import { readdir, readFile, stat } from "node:fs/promises";
import { extname, join } from "node:path";
import { ConfigError, type ConfigIssue, isTruthy, parseDuration } from "@outrig/core";
import { type Document, LineCounter, parseAllDocuments } from "yaml";
import type { z } from "zod";
import {
  type ComponentResource,
  componentSchema,
  configurationSchema,
  emptyResources,
  type HttpEndpointResource,
  httpEndpointSchema,
  type ResourceSource,
  type Resources,
  resiliencySchema,
  type SecretOrValue,
  type SubscriptionRule,
  subscriptionSchema,
} from "./model.ts";

const DEFAULT_INIT_TIMEOUT_MS = 5000;

/** A field name for a ConfigIssue that says where it is: `file [document N] path (line L)`. */
export function locate(source: ResourceSource, path: string, line?: number): string {
  return `${source.file} [document ${source.document}] ${path} (line ${line ?? source.line})`;
}

/**
 * The paths of `raw` that parsing dropped: fields a schema does not know, which nothing would
 * ever read, so the caller can name them instead of accepting them silently.
 */
function droppedFields(raw: unknown, parsed: unknown, path = ""): string[] {
  if (raw === null || typeof raw !== "object") return [];
  if (Array.isArray(raw)) {
    if (!Array.isArray(parsed)) return [];
    return raw.flatMap((item, i) => droppedFields(item, parsed[i], `${path}[${i}]`));
  }
  if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) return [];
  const kept = parsed as Record<string, unknown>;
  return Object.entries(raw).flatMap(([key, value]) => {
    const at = path ? `${path}.${key}` : key;
    return key in kept ? droppedFields(value, kept[key], at) : [at];
  });
}

/**
 * Parses YAML text holding any number of `---` documents into resources. Every problem in the
 * text is reported at once, as one ConfigError naming file, document, field and line.
 */
export function parseResources(text: string, file = "<inline>"): Resources {
  const lineCounter = new LineCounter();
  const docs = parseAllDocuments(text, { lineCounter });
  const resources = emptyResources();
  const issues: ConfigIssue[] = [];
  const lineOf = (offset: number | undefined): number =>
    offset === undefined ? 1 : lineCounter.linePos(offset).line;

  if (!Array.isArray(docs)) {
    // An empty file parses to an empty stream, which `yaml` returns as a non-array.
    return resources;
  }
  docs.forEach((doc, index) => {
    const source: ResourceSource = { file, document: index, line: lineOf(doc.range?.[0]) };
    for (const error of doc.errors) {
      issues.push({
        field: locate(source, "(yaml)", lineOf(error.pos[0])),
        message: error.message,
      });
    }
    if (doc.errors.length > 0) return;
    const value = doc.toJS() as unknown;
    if (value === null || value === undefined) return;
    if (typeof value !== "object" || Array.isArray(value)) {
      issues.push({
        field: locate(source, "(document)"),
        message: "must be a mapping with apiVersion and kind",
      });
      return;
    }
    const kind = (value as { kind?: unknown }).kind;
    const nodeLine = (path: readonly PropertyKey[]): number | undefined => {
      const node = doc.getIn(path as (string | number)[], true) as
        | { range?: [number, number, number] }
        | undefined;
      return node?.range ? lineOf(node.range[0]) : undefined;
    };
    const check = <S extends z.ZodType>(schema: S): z.infer<S> | undefined => {
      const result = schema.safeParse(value);
      if (result.success) return result.data;
      for (const issue of result.error.issues) {
        const path = formatPath(issue.path);
        issues.push({
          field: locate(source, path, nodeLine(issue.path) ?? source.line),
          message: issue.message,
        });
      }
      return undefined;
    };
    switch (kind) {
      case "Component": {
        const c = check(componentSchema);
        if (c) resources.components.push(toComponent(c, source, doc, lineOf, issues));
        break;
      }
      case "Subscription": {
        const s = check(subscriptionSchema);
        if (s) {
          const rules: SubscriptionRule[] = (s.spec.routes?.rules ?? []).map((r) => ({
            match: r.match,
            path: r.path,
          }));
          const fallback = s.spec.routes?.default ?? s.spec.route;
          if (fallback) rules.push({ match: "", path: fallback });
          if (rules.length === 0) {
            issues.push({
              field: locate(source, "spec.routes"),
              message: "a subscription needs route, routes.rules or routes.default",
            });
            break;
          }
          const bulk = s.spec.bulkSubscribe;
          resources.subscriptions.push({
            kind: "Subscription",
            name: s.metadata.name,
            pubsubname: s.spec.pubsubname,
            topic: s.spec.topic,
            rules,
            deadLetterTopic: s.spec.deadLetterTopic || undefined,
            bulkSubscribe: bulk
              ? {
                  enabled: bulk.enabled === true || isTruthy(String(bulk.enabled ?? "")),
                  ...(bulk.maxMessagesCount !== undefined
                    ? { maxMessagesCount: bulk.maxMessagesCount }
                    : {}),
                  ...(bulk.maxAwaitDurationMs !== undefined
                    ? { maxAwaitDurationMs: bulk.maxAwaitDurationMs }
                    : {}),
                }
              : undefined,
            metadata: s.spec.metadata ?? {},
            scopes: s.scopes,
            source,
          });
        }
        break;
      }
      case "Resiliency": {
        const r = check(resiliencySchema);
        if (r)
          resources.resiliencies.push({
            kind: "Resiliency",
            name: r.metadata.name,
            spec: r.spec,
            scopes: r.scopes,
            source,
            unknownFields: droppedFields(value, r),
          });
        break;
      }
      case "Configuration": {
        const c = check(configurationSchema);
        if (c)
          resources.configurations.push({
            kind: "Configuration",
            name: c.metadata.name,
            spec: c.spec,
            scopes: c.scopes,
            source,
            unknownFields: droppedFields(value, c),
          });
        break;
      }
      case "HTTPEndpoint": {
        const e = check(httpEndpointSchema);
        if (e) {
          const headers: Record<string, string> = {};
          const secretHeaders: HttpEndpointResource["secretHeaders"] = [];
          const unsupported = Object.keys(e.spec)
            .filter((k) => !["baseUrl", "headers", "clientTLS"].includes(k))
            .map((k) => `spec.${k}`);
          for (const h of e.spec.headers ?? []) {
            if (h.value !== undefined && h.value !== null) headers[h.name] = String(h.value);
            else if (h.secretKeyRef)
              secretHeaders.push({ name: h.name, secretKeyRef: h.secretKeyRef });
            else
              unsupported.push(`spec.headers.${h.name} (only value and secretKeyRef are applied)`);
          }
          const tls = e.spec.clientTLS ?? undefined;
          if (tls) {
            for (const k of Object.keys(tls))
              if (!["rootCA", "certificate", "privateKey"].includes(k))
                unsupported.push(`spec.clientTLS.${k}`);
          }
          const clientTLS = tls
            ? Object.fromEntries(
                (["rootCA", "certificate", "privateKey"] as const)
                  .filter((k) => tls[k])
                  .map((k) => [k, tls[k] as SecretOrValue]),
              )
            : undefined;
          resources.httpEndpoints.push({
            kind: "HTTPEndpoint",
            name: e.metadata.name,
            baseUrl: e.spec.baseUrl,
            headers,
            secretHeaders,
            ...(clientTLS ? { clientTLS } : {}),
            ...(e.auth?.secretStore ? { secretStore: e.auth.secretStore } : {}),
            unsupported,
            scopes: e.scopes,
            source,
          });
        }
        break;
      }
      default:
        // Other Dapr kinds may sit alongside; they are not served yet.
        break;
    }
  });
  if (issues.length > 0) throw new ConfigError(issues, { component: "resources" });
  return resources;
}

function toComponent(
  c: z.infer<typeof componentSchema>,
  source: ResourceSource,
  doc: Document.Parsed,
  lineOf: (offset: number | undefined) => number,
  issues: ConfigIssue[],
): ComponentResource {
  const ignore = c.spec.ignoreErrors;
  const fieldLines: Record<string, number> = {};
  for (const path of [
    "metadata.name",
    "spec",
    "spec.metadata",
    "spec.type",
    "spec.version",
    "spec.initTimeout",
    "spec.ignoreErrors",
    "auth.secretStore",
  ]) {
    const node = doc.getIn(path.split("."), true) as
      | { range?: [number, number, number] }
      | undefined;
    if (node?.range) fieldLines[path] = lineOf(node.range[0]);
  }
  let initTimeoutMs = DEFAULT_INIT_TIMEOUT_MS;
  if (c.spec.initTimeout !== undefined) {
    const ms = parseDuration(c.spec.initTimeout);
    if (ms === undefined || ms <= 0) {
      issues.push({
        field: locate(source, "spec.initTimeout", fieldLines["spec.initTimeout"]),
        message: "must be a duration such as 5s",
      });
    } else initTimeoutMs = ms;
  }
  const metadataLines: Record<string, number> = {};
  c.spec.metadata.forEach((item, i) => {
    const node = doc.getIn(["spec", "metadata", i], true) as
      | { range?: [number, number, number] }
      | undefined;
    metadataLines[item.name] = node?.range ? lineOf(node.range[0]) : source.line;
    const forms = [
      item.value !== undefined,
      item.secretKeyRef !== undefined,
      item.envRef !== undefined,
    ].filter(Boolean);
    if (forms.length > 1) {
      issues.push({
        field: locate(source, `spec.metadata[${i}] (${item.name})`, metadataLines[item.name]),
        message: "give only one of value, secretKeyRef and envRef",
      });
    }
  });
  return {
    kind: "Component",
    name: c.metadata.name,
    namespace: c.metadata.namespace,
    type: c.spec.type,
    version: c.spec.version,
    metadata: c.spec.metadata,
    initTimeoutMs,
    ignoreErrors: typeof ignore === "boolean" ? ignore : isTruthy(ignore),
    secretStore: c.auth?.secretStore,
    scopes: c.scopes,
    source,
    metadataLines,
    fieldLines,
  };
}

function formatPath(path: readonly PropertyKey[]): string {
  let out = "";
  for (const part of path) {
    if (typeof part === "number") out += `[${part}]`;
    else out += out ? `.${String(part)}` : String(part);
  }
  return out || "(document)";
}

/** Concatenates resources; later ones come after earlier ones. */
export function mergeResources(...all: Resources[]): Resources {
  const out = emptyResources();
  for (const r of all) {
    out.components.push(...r.components);
    out.subscriptions.push(...r.subscriptions);
    out.resiliencies.push(...r.resiliencies);
    out.configurations.push(...r.configurations);
    out.httpEndpoints.push(...r.httpEndpoints);
  }
  return out;
}

/**
 * The `.yaml`/`.yml` files of each path (a directory, not recursive, as daprd does; or a file), in
 * order. A path that does not exist fails, unless `onMissing` is given: then it is reported and
 * skipped.
 */
export async function listResourceFiles(
  paths: readonly string[],
  options: { onMissing?: (path: string) => void } = {},
): Promise<string[]> {
  const files: string[] = [];
  for (const p of paths) {
    const info = await stat(p).catch((cause: unknown) => {
      if (options.onMissing && (cause as { code?: string }).code === "ENOENT") return undefined;
      throw new ConfigError([{ field: p, message: "resources path does not exist" }], {
        component: "resources",
        cause,
      });
    });
    if (!info) {
      options.onMissing?.(p);
      continue;
    }
    if (info.isDirectory()) {
      const names = (await readdir(p)).filter((n) => [".yaml", ".yml"].includes(extname(n))).sort();
      files.push(...names.map((n) => join(p, n)));
    } else files.push(p);
  }
  return files;
}

/** Parses one resources file; a problem in it is a ConfigError naming the file. */
export async function readResourceFile(file: string): Promise<Resources> {
  return parseResources(await readFile(file, "utf8"), file);
}

/**
 * Loads every resources file of each path (see `listResourceFiles`). Every file is parsed before
 * failing, so one start-up error lists all broken files.
 */
export async function loadResources(
  paths: readonly string[],
  options: { onMissing?: (path: string) => void } = {},
): Promise<Resources> {
  const parsed: Resources[] = [];
  const issues: ConfigIssue[] = [];
  for (const file of await listResourceFiles(paths, options)) {
    try {
      parsed.push(await readResourceFile(file));
    } catch (error) {
      if (error instanceof ConfigError) issues.push(...error.issues);
      else throw error;
    }
  }
  if (issues.length > 0) throw new ConfigError(issues, { component: "resources" });
  return mergeResources(...parsed);
}
