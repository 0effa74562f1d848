import { z } from "zod";
import { parseDuration } from "./duration.ts";
import { ConfigError, type ConfigIssue } from "./errors.ts";
import { getMetadata, isTruthy, type Metadata } from "./metadata.ts";

type FieldKind =
  | "string"
  | "integer"
  | "number"
  | "boolean"
  | "duration"
  | "enum"
  | "json"
  | "list";

interface FieldSpec<T> {
  description?: string;
  /** Required fields without a default fail parsing when absent or empty. */
  required?: boolean;
  default?: T;
  /** Secrets: redacted from logs and the metadata API. */
  sensitive?: boolean;
  /** Other accepted spellings (Dapr renamed several fields over time). */
  aliases?: readonly string[];
  example?: string;
}

export interface OptionField<T> {
  readonly kind: FieldKind;
  readonly spec: FieldSpec<T>;
  readonly schema: z.ZodType<T, string>;
  readonly jsonType: Record<string, unknown>;
}

function field<T>(
  kind: FieldKind,
  spec: FieldSpec<T>,
  schema: z.ZodType<T, string>,
  jsonType: Record<string, unknown>,
): OptionField<T> {
  return { kind, spec, schema, jsonType };
}

/**
 * A field whose spec keeps its literal type, so `ParsedOptions` knows which fields have a default
 * or are required and types them as always present.
 */
type Field<T, S> = OptionField<T> & { readonly spec: S };

const integerText = z
  .string()
  .trim()
  .regex(/^-?\d+$/, "must be an integer");
const numberText = z
  .string()
  .trim()
  .regex(/^-?\d+(\.\d+)?$/, "must be a number");

/** Field builders for a component's metadata schema; Dapr metadata values are always strings. */
export const option = {
  string<const S extends FieldSpec<string> = FieldSpec<string>>(
    spec: S = {} as S,
  ): Field<string, S> {
    return field("string", spec, z.string(), { type: "string" }) as Field<string, S>;
  },
  integer<const S extends FieldSpec<number> & { min?: number; max?: number } = FieldSpec<number>>(
    spec: S = {} as S,
  ): Field<number, S> {
    let n = z.number().int();
    if (spec.min !== undefined) n = n.min(spec.min, `must be >= ${spec.min}`);
    if (spec.max !== undefined) n = n.max(spec.max, `must be <= ${spec.max}`);
    return field("integer", spec, integerText.transform(Number).pipe(n), {
      type: "integer",
      ...(spec.min !== undefined ? { minimum: spec.min } : {}),
      ...(spec.max !== undefined ? { maximum: spec.max } : {}),
    }) as Field<number, S>;
  },
  number<const S extends FieldSpec<number> & { min?: number } = FieldSpec<number>>(
    spec: S = {} as S,
  ): Field<number, S> {
    let n = z.number();
    if (spec.min !== undefined) n = n.min(spec.min, `must be >= ${spec.min}`);
    return field("number", spec, numberText.transform(Number).pipe(n), {
      type: "number",
    }) as Field<number, S>;
  },
  boolean<const S extends FieldSpec<boolean> = FieldSpec<boolean>>(
    spec: S = {} as S,
  ): Field<boolean, S> {
    const spellings = ["y", "yes", "true", "t", "on", "1", "n", "no", "false", "f", "off", "0"];
    return field(
      "boolean",
      spec,
      z
        .string()
        .trim()
        .refine((v) => spellings.includes(v.toLowerCase()), "must be a boolean (true/false)")
        .transform((v) => isTruthy(v)),
      { type: "boolean" },
    ) as Field<boolean, S>;
  },
  /** A Go-style duration (`5s`, `1m30s`, `500ms`); a bare number means seconds. Parsed to ms. */
  duration<const S extends FieldSpec<number> & { bareUnit?: "s" | "ms" } = FieldSpec<number>>(
    spec: S = {} as S,
  ): Field<number, S> {
    return field(
      "duration",
      spec,
      z.string().transform((v, ctx) => {
        const ms = parseDuration(v, spec.bareUnit ?? "s");
        if (ms === undefined || ms < 0) {
          ctx.addIssue({ code: "custom", message: "must be a duration such as 5s, 1m or 500ms" });
          return z.NEVER;
        }
        return ms;
      }),
      { type: "string", format: "duration", pattern: "^(\\d+(\\.\\d+)?(ns|us|ms|s|m|h)?)+$" },
    ) as Field<number, S>;
  },
  enum<const V extends string, const S extends FieldSpec<V> = FieldSpec<V>>(
    values: readonly V[],
    spec: S = {} as S,
  ): Field<V, S> {
    return field(
      "enum",
      spec,
      z
        .string()
        .trim()
        .transform((v, ctx) => {
          const hit = values.find((x) => x.toLowerCase() === v.toLowerCase());
          if (hit === undefined) {
            ctx.addIssue({ code: "custom", message: `must be one of ${values.join(", ")}` });
            return z.NEVER;
          }
          return hit;
        }),
      { type: "string", enum: [...values] },
    ) as Field<V, S>;
  },
  json<T = unknown, const S extends FieldSpec<T> = FieldSpec<T>>(spec: S = {} as S): Field<T, S> {
    return field(
      "json",
      spec,
      z.string().transform((v, ctx) => {
        try {
          return JSON.parse(v) as T;
        } catch {
          ctx.addIssue({ code: "custom", message: "must be valid JSON" });
          return z.NEVER;
        }
      }),
      { type: "string", contentMediaType: "application/json" },
    ) as Field<T, S>;
  },
  /** A comma-separated list, trimmed, empty entries dropped. */
  list<const S extends FieldSpec<string[]> = FieldSpec<string[]>>(
    spec: S = {} as S,
  ): Field<string[], S> {
    return field(
      "list",
      spec,
      z.string().transform((v) =>
        v
          .split(",")
          .map((s) => s.trim())
          .filter((s) => s.length > 0),
      ),
      { type: "string", description: "comma-separated list" },
    ) as Field<string[], S>;
  },
};

// biome-ignore lint/suspicious/noExplicitAny: field maps are heterogenous by design
type AnyField = OptionField<any>;
export type OptionFields = Record<string, AnyField>;

type FieldValue<F> = F extends OptionField<infer T> ? T : never;
type HasDefault<F> = F extends { spec: { default: unknown } } ? true : false;

/** The parsed options: fields with a default or `required` are always present. */
export type ParsedOptions<S extends OptionFields> = {
  readonly [K in keyof S]: HasDefault<S[K]> extends true
    ? FieldValue<S[K]>
    : S[K] extends { spec: { required: true } }
      ? FieldValue<S[K]>
      : FieldValue<S[K]> | undefined;
};

/**
 * What a field accepts in library mode: its Dapr string form, or the JS value itself (a boolean,
 * a number: for a duration, milliseconds, as `parse` returns them; a list as an array; an enum
 * only as one of its values, so a typo fails to compile).
 */
type InputValue<T> = 0 extends 1 & T
  ? unknown
  : [T] extends [readonly string[]]
    ? readonly string[] | string
    : [T] extends [boolean]
      ? boolean | string
      : [T] extends [number]
        ? number | string
        : [T] extends [string]
          ? T
          : T | string;

/**
 * A library-mode factory's options, typed from the component's schema: the field names as the
 * YAML spells them, nothing else (an unknown key is refused at run time too).
 */
export type OptionsInput<S extends OptionFields> = {
  readonly [K in keyof S]?: InputValue<FieldValue<S[K]>>;
};

export interface OptionsSchema<S extends OptionFields> {
  readonly component: string;
  readonly fields: S;
  /**
   * Parses Dapr metadata (case-insensitive keys, aliases) and reports every problem at once. Keys
   * the schema does not know are ignored, as daprd passes built-ins (`keyPrefix`, ...).
   */
  parse(metadata: Metadata | undefined): ParsedOptions<S>;
  /**
   * Library mode: typed options as Dapr metadata. A key that is neither a field nor an alias is
   * a ConfigError naming it and the known fields (a typo never passes silently).
   */
  fromOptions(input: OptionsInput<S> | undefined): Metadata;
  /** JSON Schema (draft 2020-12) of the metadata map, for docs, editors and validation. */
  jsonSchema(): Record<string, unknown>;
  /** Names of fields that hold secrets. */
  readonly sensitiveFields: readonly string[];
  /** Metadata with sensitive values replaced by `***`, safe to log or expose. */
  redact(metadata: Metadata): Metadata;
}

/** A library-mode value in Dapr's string form. */
function optionText(f: AnyField, value: unknown): string {
  if (typeof value === "number" && f.kind === "duration") return `${value}ms`;
  if (Array.isArray(value)) return value.join(",");
  if (typeof value === "string") return value;
  if (f.kind === "json") return JSON.stringify(value);
  return String(value);
}

export function defineOptions<S extends OptionFields>(
  component: string,
  fields: S,
): OptionsSchema<S> {
  const names = Object.keys(fields);
  const sensitiveFields = names.filter((n) => fields[n]?.spec.sensitive);
  const sensitiveLower = new Set(
    sensitiveFields.flatMap((n) =>
      [n, ...(fields[n]?.spec.aliases ?? [])].map((x) => x.toLowerCase()),
    ),
  );
  const shape: Record<string, z.ZodType> = {};
  for (const name of names) shape[name] = (fields[name] as AnyField).schema.optional();
  const fieldByKey = new Map<string, AnyField>();
  for (const name of names) {
    const f = fields[name] as AnyField;
    for (const key of [name, ...(f.spec.aliases ?? [])]) fieldByKey.set(key.toLowerCase(), f);
  }
  const objectSchema = z.object(shape);

  return Object.freeze({
    component,
    fields,
    sensitiveFields,
    parse(metadata: Metadata | undefined): ParsedOptions<S> {
      const raw: Record<string, string> = {};
      const issues: ConfigIssue[] = [];
      for (const name of names) {
        const f = fields[name] as AnyField;
        let value = getMetadata(metadata, name);
        for (const alias of f.spec.aliases ?? []) {
          if (value !== undefined && value !== "") break;
          value = getMetadata(metadata, alias);
        }
        if (value === undefined || value === "") {
          if (f.spec.required && f.spec.default === undefined) {
            issues.push({ field: name, message: "is required" });
          }
          continue;
        }
        raw[name] = value;
      }
      const result = objectSchema.safeParse(raw);
      if (!result.success) {
        for (const issue of result.error.issues) {
          issues.push({ field: String(issue.path[0] ?? "?"), message: issue.message });
        }
      }
      if (issues.length > 0) throw new ConfigError(issues, { component });
      const out: Record<string, unknown> = { ...(result.data as Record<string, unknown>) };
      for (const name of names) {
        if (out[name] === undefined && fields[name]?.spec.default !== undefined) {
          out[name] = fields[name]?.spec.default;
        }
      }
      return Object.freeze(out) as ParsedOptions<S>;
    },
    fromOptions(input: OptionsInput<S> | undefined): Metadata {
      const out: Metadata = {};
      const issues: ConfigIssue[] = [];
      for (const [key, value] of Object.entries(input ?? {})) {
        const f = fieldByKey.get(key.toLowerCase());
        if (!f) {
          issues.push({
            field: key,
            message: `is not an option of ${component} (options: ${names.join(", ")})`,
          });
          continue;
        }
        if (value === undefined) continue;
        out[key] = optionText(f, value);
      }
      if (issues.length > 0) throw new ConfigError(issues, { component });
      return out;
    },
    jsonSchema(): Record<string, unknown> {
      const properties: Record<string, unknown> = {};
      for (const name of names) {
        const f = fields[name] as AnyField;
        properties[name] = {
          ...f.jsonType,
          ...(f.spec.description ? { description: f.spec.description } : {}),
          ...(f.spec.default !== undefined ? { default: f.spec.default } : {}),
          ...(f.spec.example ? { examples: [f.spec.example] } : {}),
          ...(f.spec.sensitive ? { writeOnly: true, "x-sensitive": true } : {}),
          ...(f.spec.aliases?.length ? { "x-aliases": f.spec.aliases } : {}),
        };
      }
      return {
        $schema: "https://json-schema.org/draft/2020-12/schema",
        title: component,
        type: "object",
        properties,
        required: names.filter(
          (n) => fields[n]?.spec.required && fields[n]?.spec.default === undefined,
        ),
        additionalProperties: true,
      };
    },
    redact(metadata: Metadata): Metadata {
      const out: Metadata = {};
      for (const [k, v] of Object.entries(metadata)) {
        out[k] = sensitiveLower.has(k.toLowerCase()) ? "***" : v;
      }
      return out;
    },
  });
}
