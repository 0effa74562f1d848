import { createHash } from "node:crypto";
import {
  BaseConversation,
  type ComponentContext,
  ComponentError,
  type ConversationCapability,
  type ConversationDefinition,
  type ConversationMessage,
  type ConversationOutput,
  type ConversationRequest,
  type ConversationResponse,
  type ConversationToolCall,
  defineOptions,
  type ErrorCode,
  type Logger,
  type Metadata,
  messageText,
  type OptionsInput,
  option,
  silentLogger,
} from "@outrig/core";
import { componentErrors } from "@outrig/core/kit";
import { LRUCache } from "lru-cache";

const COMPONENT = "conversation.openai";
const errors = componentErrors(COMPONENT);
const DEFAULT_ENDPOINT = "https://api.openai.com/v1";
/** Answers kept by `cacheTTL` at most; the oldest go first. */
const CACHE_ENTRIES = 1000;
/** The largest answer read from the endpoint; a larger one fails the call. */
const MAX_RESPONSE_BYTES = 16 * 1024 * 1024;
const PING_TIMEOUT_MS = 5_000;

/** Dapr's `conversation.openai` metadata names, plus `timeout`. */
export const openaiOptions = defineOptions(COMPONENT, {
  key: option.string({
    sensitive: true,
    description:
      "The API key, sent as `Authorization: Bearer` (`api-key` for Azure); a local endpoint may need none",
  }),
  model: option.string({
    default: "gpt-4o",
    description: "The model of every request; a request's `model` metadata overrides it",
  }),
  endpoint: option.string({
    default: DEFAULT_ENDPOINT,
    description:
      "Base URL of any OpenAI-compatible API; `/chat/completions` is appended (Ollama, vLLM, LocalAI, ...)",
    example: "http://localhost:11434/v1",
  }),
  cacheTTL: option.duration({
    description:
      "Keep each answer this long and answer the same request from memory (at most 1000 answers); unset caches nothing",
    example: "10m",
  }),
  apiType: option.enum(["openai", "azure"] as const, {
    default: "openai",
    description:
      "`azure` calls `{endpoint}/openai/deployments/{model}/chat/completions?api-version={apiVersion}`",
  }),
  apiVersion: option.string({
    description: "Azure OpenAI's `api-version` (required with `apiType: azure`)",
    example: "2024-06-01",
  }),
  timeout: option.duration({
    default: 60_000,
    description:
      "How long one call to the model may take, answer read included (a bare number is seconds)",
    example: "30s",
  }),
});

export type OpenAIConversationMetadata = OptionsInput<typeof openaiOptions.fields>;

interface ResolvedOptions {
  key: string | undefined;
  model: string;
  endpoint: URL;
  cacheTtlMs: number;
  azure: { apiVersion: string } | undefined;
  timeoutMs: number;
}

function resolveOptions(metadata: Metadata): ResolvedOptions {
  const o = openaiOptions.parse(metadata);
  const issues: { field: string; message: string }[] = [];
  let endpoint: URL | undefined;
  try {
    endpoint = new URL(o.endpoint);
    if (endpoint.protocol !== "http:" && endpoint.protocol !== "https:")
      issues.push({ field: "endpoint", message: "must be an http:// or https:// URL" });
  } catch {
    issues.push({ field: "endpoint", message: "must be an absolute URL" });
  }
  if (o.apiType === "azure" && !o.apiVersion)
    issues.push({ field: "apiVersion", message: "is required with apiType azure" });
  if (o.timeout <= 0) issues.push({ field: "timeout", message: "must be greater than 0" });
  if (issues.length > 0) throw errors.config(issues);
  return {
    key: o.key || undefined,
    model: o.model,
    endpoint: endpoint as URL,
    cacheTtlMs: o.cacheTTL ?? 0,
    azure: o.apiType === "azure" ? { apiVersion: o.apiVersion as string } : undefined,
    timeoutMs: o.timeout,
  };
}

// ---- Dapr's request to the chat-completions wire format, and its answer back ----

interface WireToolCall {
  id?: string;
  type?: string;
  function?: { name?: string; arguments?: string };
}

function wireMessage(m: ConversationMessage): Record<string, unknown> {
  const content = messageText(m);
  const name = m.name ? { name: m.name } : {};
  switch (m.role) {
    case "assistant":
      return {
        role: "assistant",
        content: content || null,
        ...name,
        ...(m.toolCalls?.length
          ? {
              tool_calls: m.toolCalls.map((c) => ({
                id: c.id ?? "",
                type: "function",
                function: { name: c.name, arguments: c.arguments },
              })),
            }
          : {}),
      };
    case "tool":
      // Chat completions has no tool name on a tool message; the id ties it to its call.
      return { role: "tool", tool_call_id: m.toolId ?? "", content };
    default:
      return { role: m.role, content, ...name };
  }
}

function wireToolChoice(choice: string | undefined): unknown {
  if (choice === undefined || ["none", "auto", "required"].includes(choice)) return choice;
  return { type: "function", function: { name: choice } };
}

/** Request metadata the component reads; the rest is warned about once per key. */
const REQUEST_METADATA = new Set(["model", "key", "api_key"]);

function fromWire(body: unknown): ConversationOutput {
  const b = body as {
    model?: unknown;
    choices?: unknown;
    usage?: { prompt_tokens?: number; completion_tokens?: number; total_tokens?: number };
  };
  if (!Array.isArray(b.choices))
    throw errors.error("ERR_INTERNAL", "the endpoint's answer has no choices");
  const choices = b.choices.map((raw: unknown, i) => {
    const c = raw as {
      index?: number;
      finish_reason?: string;
      message?: { content?: string | null; tool_calls?: WireToolCall[] };
    };
    const toolCalls: ConversationToolCall[] = (c.message?.tool_calls ?? []).map((t) => ({
      ...(t.id ? { id: t.id } : {}),
      name: t.function?.name ?? "",
      arguments: t.function?.arguments ?? "",
    }));
    return {
      finishReason: c.finish_reason ?? "stop",
      index: typeof c.index === "number" ? c.index : i,
      message: {
        content: c.message?.content ?? "",
        ...(toolCalls.length > 0 ? { toolCalls } : {}),
      },
    };
  });
  const usage = b.usage;
  return {
    choices,
    ...(typeof b.model === "string" && b.model ? { model: b.model } : {}),
    ...(usage
      ? {
          usage: {
            promptTokens: usage.prompt_tokens ?? 0,
            completionTokens: usage.completion_tokens ?? 0,
            totalTokens: usage.total_tokens ?? 0,
          },
        }
      : {}),
  };
}

function statusCode(status: number): ErrorCode {
  if (status === 400 || status === 404 || status === 409 || status === 422)
    return "ERR_INVALID_REQUEST";
  if (status === 408 || status === 429 || status >= 500) return "ERR_UNAVAILABLE";
  return "ERR_INTERNAL";
}

/** The error message an OpenAI-compatible API put in its body, if any. */
function apiMessage(text: string): string {
  try {
    const parsed = JSON.parse(text) as { error?: { message?: unknown } | string };
    const m = typeof parsed.error === "string" ? parsed.error : parsed.error?.message;
    if (typeof m === "string" && m) return m;
  } catch {
    // Not JSON: the text itself, shortened below.
  }
  return text.slice(0, 300);
}

async function readLimited(response: Response): Promise<string> {
  const declared = Number(response.headers.get("content-length"));
  if (declared > MAX_RESPONSE_BYTES) {
    await response.body?.cancel();
    throw errors.error(
      "ERR_INTERNAL",
      `the endpoint's answer of ${declared} bytes exceeds ${MAX_RESPONSE_BYTES}`,
    );
  }
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of response.body ?? []) {
    size += (chunk as Uint8Array).byteLength;
    if (size > MAX_RESPONSE_BYTES) {
      await response.body?.cancel().catch(() => undefined);
      throw errors.error(
        "ERR_INTERNAL",
        `the endpoint's answer exceeds ${MAX_RESPONSE_BYTES} bytes`,
      );
    }
    chunks.push(chunk as Uint8Array);
  }
  return Buffer.concat(chunks).toString("utf8");
}

/**
 * `conversation.openai`: each converse is one chat-completions call to `endpoint` (OpenAI or any
 * compatible API), with Dapr's messages, tools and tool choice mapped to the wire format and its
 * choices, tool calls and usage mapped back. Built on Node's fetch; bounded by `timeout` and the
 * caller's signal; answers cached for `cacheTTL` when set.
 */
export class OpenAIConversation extends BaseConversation {
  readonly componentType = COMPONENT;
  readonly capabilities: ReadonlySet<ConversationCapability> = new Set([
    "TOOL_CALLING",
    "RESPONSE_FORMAT",
  ]);
  private readonly options: ResolvedOptions;
  private readonly logger: Logger;
  private readonly cache: LRUCache<string, ConversationOutput> | undefined;
  private readonly warned = new Set<string>();

  constructor(options: ResolvedOptions, logger: Logger = silentLogger) {
    super();
    this.options = options;
    this.logger = logger;
    this.cache =
      options.cacheTtlMs > 0
        ? new LRUCache({ max: CACHE_ENTRIES, ttl: options.cacheTtlMs })
        : undefined;
  }

  private url(model: string): string {
    const base = this.options.endpoint.href.replace(/\/+$/, "");
    if (!this.options.azure) return `${base}/chat/completions`;
    return `${base}/openai/deployments/${encodeURIComponent(model)}/chat/completions?api-version=${encodeURIComponent(this.options.azure.apiVersion)}`;
  }

  private headers(key: string | undefined): Record<string, string> {
    const out: Record<string, string> = { "content-type": "application/json" };
    if (key) {
      if (this.options.azure) out["api-key"] = key;
      else out.authorization = `Bearer ${key}`;
    }
    return out;
  }

  protected async respond(request: ConversationRequest): Promise<ConversationResponse> {
    const metadata = request.metadata ?? {};
    for (const k of Object.keys(metadata)) {
      if (!REQUEST_METADATA.has(k) && !this.warned.has(k)) {
        this.warned.add(k);
        this.logger.warn(`${COMPONENT}: request metadata ${k} is not used by this component`);
      }
    }
    const model = metadata.model || this.options.model;
    const key = metadata.api_key || metadata.key || this.options.key;
    const body = JSON.stringify({
      // Custom fields first, so Dapr's own fields always win over a same-named parameter.
      ...request.parameters,
      model,
      messages: request.messages.map(wireMessage),
      ...(request.temperature !== undefined ? { temperature: request.temperature } : {}),
      ...(request.tools?.length
        ? {
            tools: request.tools.map((t) => ({
              type: "function",
              function: {
                name: t.name,
                ...(t.description ? { description: t.description } : {}),
                parameters: t.parameters ?? { type: "object", properties: {} },
              },
            })),
          }
        : {}),
      ...(request.toolChoice !== undefined && request.tools?.length
        ? { tool_choice: wireToolChoice(request.toolChoice) }
        : {}),
      ...(request.responseFormat ? { response_format: request.responseFormat } : {}),
    });
    const url = this.url(model);
    const cacheKey = this.cache
      ? createHash("sha256")
          .update(`${url}\n${key ?? ""}\n${body}`)
          .digest("hex")
      : undefined;
    const cached = cacheKey ? this.cache?.get(cacheKey) : undefined;
    if (cached) return { outputs: [structuredClone(cached)] };

    const timeout = AbortSignal.timeout(this.options.timeoutMs);
    const signals = [this.closingSignal, timeout, ...(request.signal ? [request.signal] : [])];
    let text: string;
    let response: Response;
    try {
      response = await fetch(url, {
        method: "POST",
        headers: this.headers(key),
        body,
        signal: AbortSignal.any(signals),
      });
      text = await readLimited(response);
    } catch (error) {
      if (error instanceof ComponentError) throw error;
      if (timeout.aborted)
        throw errors.error(
          "ERR_TIMEOUT",
          `${this.options.endpoint.host} did not answer within ${this.options.timeoutMs}ms`,
          { cause: error },
        );
      if (this.closingSignal.aborted) throw this.closedError();
      if (request.signal?.aborted)
        throw errors.error("ERR_TIMEOUT", "the caller went away", { cause: error });
      throw errors.error(
        "ERR_UNAVAILABLE",
        `cannot reach ${this.options.endpoint.host}: ${(error as Error).message}`,
        { cause: error },
      );
    }
    if (!response.ok) {
      throw errors.error(
        statusCode(response.status),
        `${this.options.endpoint.host} answered ${response.status}: ${apiMessage(text)}`,
        { details: { status: response.status } },
      );
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      throw errors.error(
        "ERR_INTERNAL",
        `${this.options.endpoint.host} answered something that is not JSON`,
      );
    }
    const output = fromWire(parsed);
    if (cacheKey) this.cache?.set(cacheKey, structuredClone(output));
    return { outputs: [output] };
  }

  protected override async onPing(): Promise<void> {
    try {
      const response = await fetch(`${this.options.endpoint.href.replace(/\/+$/, "")}/models`, {
        headers: this.headers(this.options.key),
        signal: AbortSignal.any([this.closingSignal, AbortSignal.timeout(PING_TIMEOUT_MS)]),
      });
      // Any answer means the endpoint is up; not every compatible API serves /models.
      await response.body?.cancel();
    } catch (error) {
      throw errors.error(
        "ERR_UNAVAILABLE",
        `cannot reach ${this.options.endpoint.host}: ${(error as Error).message}`,
        { cause: error },
      );
    }
  }

  protected override async onClose(): Promise<void> {
    this.cache?.clear();
  }
}

async function openOpenAI(
  metadata: Metadata,
  context?: ComponentContext,
): Promise<OpenAIConversation> {
  return new OpenAIConversation(resolveOptions(metadata), context?.logger);
}

/** Creates `conversation.openai` in-process. */
export function createOpenAIConversation(
  options: OpenAIConversationMetadata = {},
  context?: ComponentContext,
): Promise<OpenAIConversation> {
  return openOpenAI(openaiOptions.fromOptions(options), context);
}

export const openaiConversationDefinition: ConversationDefinition = {
  type: COMPONENT,
  kind: "conversation",
  version: "v1",
  status: "alpha",
  description:
    "Any OpenAI-compatible chat-completions API (OpenAI, Azure OpenAI, Ollama, vLLM, ...): tool calls, structured output, response caching.",
  capabilities: ["TOOL_CALLING", "RESPONSE_FORMAT"],
  options: openaiOptions,
  create: openOpenAI,
};
