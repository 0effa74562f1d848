import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/** A chat-completions request as the server received it. */
export interface ChatRequest {
  url: string;
  headers: IncomingMessage["headers"];
  body: {
    model: string;
    messages: {
      role: string;
      content: string | null;
      name?: string;
      tool_call_id?: string;
      tool_calls?: { id: string; type: string; function: { name: string; arguments: string } }[];
    }[];
    tools?: { type: string; function: { name: string; parameters?: unknown } }[];
    tool_choice?: unknown;
    temperature?: number;
    response_format?: unknown;
    [custom: string]: unknown;
  };
}

/**
 * A small OpenAI-compatible server on loopback, speaking the chat-completions wire format:
 * `POST /v1/chat/completions` (and Azure's `/openai/deployments/{model}/chat/completions`)
 * answers with the last user message, or the last tool result; with tools, it calls the tool
 * `tool_choice` forces or a user message names, with arguments `{"location": <message>}`; with
 * `response_format`, JSON. Model `slow` answers after 2 s; model `broken` answers 500; a wrong
 * key is 401 with OpenAI's error body. `GET /v1/models` lists the models.
 */
export async function startOpenAIServer(key: string): Promise<{
  url: string;
  requests: ChatRequest[];
  close(): Promise<void>;
}> {
  const requests: ChatRequest[] = [];
  let calls = 0;
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const send = (status: number, body: unknown) => {
        const text = JSON.stringify(body);
        res.writeHead(status, {
          "content-type": "application/json",
          "content-length": Buffer.byteLength(text),
        });
        res.end(text);
      };
      const url = req.url ?? "/";
      const auth = req.headers.authorization ?? `Bearer ${req.headers["api-key"] ?? ""}`;
      if (auth !== `Bearer ${key}`) {
        send(401, {
          error: { message: "Incorrect API key provided", type: "invalid_request_error" },
        });
        return;
      }
      if (req.method === "GET" && url === "/v1/models") {
        send(200, { object: "list", data: [{ id: "local-model", object: "model" }] });
        return;
      }
      if (req.method !== "POST" || !/\/chat\/completions(\?|$)/.test(url)) {
        send(404, { error: { message: `no route ${url}` } });
        return;
      }
      const body = JSON.parse(Buffer.concat(chunks).toString("utf8")) as ChatRequest["body"];
      requests.push({ url, headers: req.headers, body });
      if (body.model === "broken") {
        send(500, { error: { message: "the model is overloaded" } });
        return;
      }
      const last = body.messages[body.messages.length - 1];
      const lastUser = [...body.messages].reverse().find((m) => m.role === "user");
      const text = (last?.role === "tool" ? last.content : lastUser?.content) ?? "";
      const forced = body.tool_choice as { function?: { name?: string } } | string | undefined;
      const forcedName = typeof forced === "object" ? forced.function?.name : undefined;
      const named = (body.tools ?? []).filter(
        (t) =>
          t.function.name === forcedName ||
          (forced !== "none" && !forcedName && text.includes(t.function.name)),
      );
      const callTools = last?.role !== "tool" && named.length > 0;
      calls++;
      const answer = {
        id: `chatcmpl-${calls}`,
        object: "chat.completion",
        created: 1_700_000_000,
        model: body.model,
        choices: [
          {
            index: 0,
            finish_reason: callTools ? "tool_calls" : "stop",
            message: {
              role: "assistant",
              content: callTools
                ? null
                : body.response_format
                  ? JSON.stringify({ colour: "blue" })
                  : text,
              ...(callTools
                ? {
                    tool_calls: named.map((t, i) => ({
                      id: `call_${calls}_${i}`,
                      type: "function",
                      function: {
                        name: t.function.name,
                        arguments: JSON.stringify({ location: text }),
                      },
                    })),
                  }
                : {}),
            },
          },
        ],
        usage: { prompt_tokens: 11, completion_tokens: 7, total_tokens: 18 },
      };
      if (body.model === "slow") {
        const timer = setTimeout(() => send(200, answer), 2_000);
        res.on("close", () => clearTimeout(timer));
        return;
      }
      send(200, answer);
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/v1`,
    requests,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
