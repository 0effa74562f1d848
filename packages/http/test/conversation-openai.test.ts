// conversation.openai against a real OpenAI-compatible HTTP server on loopback: the wire format
// both ways (messages, tools, tool choice, tool calls, usage), caching, the timeout, the caller's
// cancel, errors, Azure's URL and key header, and the component through the sidecar's HTTP API.
import { ComponentError, type ConversationRequest, silentLogger } from "@outrig/core";
import { createRegistry, startSidecar } from "@outrig/runtime";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createOpenAIConversation, manifest } from "../src/index.ts";
import { startOpenAIServer } from "./openai-server.ts";

const KEY = "sk-test-123";
let server: Awaited<ReturnType<typeof startOpenAIServer>>;
beforeAll(async () => {
  server = await startOpenAIServer(KEY);
});
afterAll(() => server?.close());

const user = (text: string): ConversationRequest["messages"][number] => ({
  role: "user",
  content: [text],
});
const WEATHER = {
  name: "get_weather",
  description: "Weather of a city",
  parameters: { type: "object", properties: { location: { type: "string" } } },
};

async function failure(p: Promise<unknown>): Promise<ComponentError> {
  const e = await p.then(
    () => undefined,
    (error: unknown) => error,
  );
  expect(e).toBeInstanceOf(ComponentError);
  return e as ComponentError;
}

describe("the chat-completions wire format", () => {
  it("sends Dapr's messages, tools, tool choice, temperature and parameters as OpenAI's fields", async () => {
    const llm = await createOpenAIConversation({ endpoint: server.url, key: KEY, model: "m1" });
    const before = server.requests.length;
    const response = await llm.converse({
      messages: [
        { role: "developer", content: ["rules"] },
        { role: "system", name: "sys", content: ["be brief"] },
        user("weather?"),
        {
          role: "assistant",
          content: [],
          toolCalls: [{ id: "call_9", name: "get_weather", arguments: '{"location":"Rome"}' }],
        },
        { role: "tool", name: "get_weather", toolId: "call_9", content: ["sunny", " and warm"] },
      ],
      tools: [WEATHER],
      toolChoice: "auto",
      temperature: 0.3,
      parameters: { max_tokens: 100, model: "not-this-one" },
    });
    const sent = server.requests[before];
    expect(sent?.url).toBe("/v1/chat/completions");
    expect(sent?.headers.authorization).toBe(`Bearer ${KEY}`);
    expect(sent?.body).toEqual({
      max_tokens: 100,
      model: "m1",
      messages: [
        { role: "developer", content: "rules" },
        { role: "system", name: "sys", content: "be brief" },
        { role: "user", content: "weather?" },
        {
          role: "assistant",
          content: null,
          tool_calls: [
            {
              id: "call_9",
              type: "function",
              function: { name: "get_weather", arguments: '{"location":"Rome"}' },
            },
          ],
        },
        { role: "tool", tool_call_id: "call_9", content: "sunny and warm" },
      ],
      temperature: 0.3,
      tools: [
        {
          type: "function",
          function: {
            name: "get_weather",
            description: "Weather of a city",
            parameters: WEATHER.parameters,
          },
        },
      ],
      tool_choice: "auto",
    });
    expect(response.outputs).toEqual([
      {
        choices: [{ finishReason: "stop", index: 0, message: { content: "sunny and warm" } }],
        model: "m1",
        usage: { promptTokens: 11, completionTokens: 7, totalTokens: 18 },
      },
    ]);
    await llm.close();
  });

  it("maps the model's tool calls back; a tool name as toolChoice is OpenAI's function choice", async () => {
    const llm = await createOpenAIConversation({ endpoint: server.url, key: KEY });
    const before = server.requests.length;
    const response = await llm.converse({
      messages: [user("Paris")],
      tools: [WEATHER],
      toolChoice: "get_weather",
      metadata: { model: "per-request" },
    });
    const sent = server.requests[before];
    expect(sent?.body.tool_choice).toEqual({ type: "function", function: { name: "get_weather" } });
    expect(sent?.body.model).toBe("per-request");
    const choice = response.outputs[0]?.choices[0];
    expect(choice?.finishReason).toBe("tool_calls");
    expect(choice?.message).toEqual({
      content: "",
      toolCalls: [
        {
          id: `call_${server.requests.length}_0`,
          name: "get_weather",
          arguments: '{"location":"Paris"}',
        },
      ],
    });
    await llm.close();
  });

  it("Azure: the deployment URL with api-version, the key in api-key", async () => {
    const llm = await createOpenAIConversation({
      endpoint: server.url.replace(/\/v1$/, ""),
      key: KEY,
      model: "dep-1",
      apiType: "azure",
      apiVersion: "2024-06-01",
    });
    const before = server.requests.length;
    await llm.converse({ messages: [user("hi")] });
    const sent = server.requests[before];
    expect(sent?.url).toBe("/openai/deployments/dep-1/chat/completions?api-version=2024-06-01");
    expect(sent?.headers["api-key"]).toBe(KEY);
    expect(sent?.headers.authorization).toBeUndefined();
    await expect(
      createOpenAIConversation({ endpoint: server.url, apiType: "azure" }),
    ).rejects.toMatchObject({ code: "ERR_CONFIG_INVALID" });
  });
});

describe("cacheTTL", () => {
  it("answers the same request from memory until the TTL passes; another request goes out", async () => {
    const llm = await createOpenAIConversation({
      endpoint: server.url,
      key: KEY,
      cacheTTL: "300ms",
    });
    const before = server.requests.length;
    const first = await llm.converse({ messages: [user("cache me")] });
    const second = await llm.converse({ messages: [user("cache me")] });
    expect(second).toEqual(first);
    expect(server.requests.length).toBe(before + 1);
    await llm.converse({ messages: [user("something else")] });
    expect(server.requests.length).toBe(before + 2);
    await new Promise((r) => setTimeout(r, 400));
    await llm.converse({ messages: [user("cache me")] });
    expect(server.requests.length).toBe(before + 3);
    await llm.close();
  });

  it("caches nothing without cacheTTL", async () => {
    const llm = await createOpenAIConversation({ endpoint: server.url, key: KEY });
    const before = server.requests.length;
    await llm.converse({ messages: [user("again")] });
    await llm.converse({ messages: [user("again")] });
    expect(server.requests.length).toBe(before + 2);
    await llm.close();
  });
});

describe("failures", () => {
  it("a model slower than timeout is ERR_TIMEOUT naming the host and the limit", async () => {
    const llm = await createOpenAIConversation({
      endpoint: server.url,
      key: KEY,
      model: "slow",
      timeout: "200ms",
    });
    const e = await failure(llm.converse({ messages: [user("hi")] }));
    expect(e.code).toBe("ERR_TIMEOUT");
    expect(e.message).toBe(
      `[conversation.openai] ${new URL(server.url).host} did not answer within 200ms`,
    );
    await llm.close();
  });

  it("the caller's abort cancels the call in flight", async () => {
    const llm = await createOpenAIConversation({ endpoint: server.url, key: KEY, model: "slow" });
    const abort = new AbortController();
    const pending = llm.converse({ messages: [user("hi")], signal: abort.signal });
    setTimeout(() => abort.abort(new Error("caller left")), 50);
    const e = await failure(pending);
    expect(e.code).toBe("ERR_TIMEOUT");
    expect(e.message).toBe("[conversation.openai] the caller went away");
    await llm.close();
  });

  it("a wrong key, a failing model and an unreachable endpoint name what went wrong", async () => {
    const host = new URL(server.url).host;
    const wrongKey = await createOpenAIConversation({ endpoint: server.url, key: "sk-wrong" });
    const e401 = await failure(wrongKey.converse({ messages: [user("hi")] }));
    expect(e401.code).toBe("ERR_INTERNAL");
    expect(e401.message).toBe(
      `[conversation.openai] ${host} answered 401: Incorrect API key provided`,
    );
    expect(e401.message).not.toContain("sk-wrong");
    const broken = await createOpenAIConversation({
      endpoint: server.url,
      key: KEY,
      model: "broken",
    });
    const e500 = await failure(broken.converse({ messages: [user("hi")] }));
    expect(e500.code).toBe("ERR_UNAVAILABLE");
    expect(e500.message).toBe(
      `[conversation.openai] ${host} answered 500: the model is overloaded`,
    );
    const nowhere = await createOpenAIConversation({ endpoint: "http://127.0.0.1:1/v1" });
    expect((await failure(nowhere.converse({ messages: [user("hi")] }))).code).toBe(
      "ERR_UNAVAILABLE",
    );
    expect((await failure(nowhere.ping())).code).toBe("ERR_UNAVAILABLE");
    await expect(createOpenAIConversation({ endpoint: "ftp://example.com" })).rejects.toMatchObject(
      { code: "ERR_CONFIG_INVALID" },
    );
  });
});

describe("through the sidecar", () => {
  it("HTTP converse with tools both ways, scrubPii, and Dapr's error for a failing model", async () => {
    const s = await startSidecar({
      appId: "llm-app",
      httpPort: 0,
      logger: silentLogger,
      registry: createRegistry({ manifests: [manifest] }),
      resources: `
apiVersion: dapr.io/v1alpha1
kind: Component
metadata:
  name: openai
spec:
  type: conversation.openai
  version: v1
  metadata:
    - name: key
      value: ${KEY}
    - name: model
      value: local-model
    - name: endpoint
      value: ${server.url}
`,
    });
    try {
      const post = async (body: unknown) => {
        const res = await fetch(`${s.url}/v1.0-alpha2/conversation/openai/converse`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify(body),
        });
        return { status: res.status, json: (await res.json()) as Record<string, unknown> };
      };
      const tools = [{ function: WEATHER }];
      const call = await post({
        inputs: [{ messages: [{ ofUser: { content: [{ text: "use get_weather in Oslo" }] } }] }],
        tools,
      });
      expect(call.status).toBe(200);
      expect(call.json).toEqual({
        outputs: [
          {
            choices: [
              {
                finishReason: "tool_calls",
                message: {
                  toolCalls: [
                    {
                      id: expect.stringMatching(/^call_\d+_0$/),
                      function: {
                        name: "get_weather",
                        arguments: '{"location":"use get_weather in Oslo"}',
                      },
                    },
                  ],
                },
              },
            ],
            model: "local-model",
            usage: { completionTokens: "7", promptTokens: "11", totalTokens: "18" },
          },
        ],
      });
      const answered = await post({
        inputs: [
          {
            messages: [
              { ofUser: { content: [{ text: "use get_weather in Oslo" }] } },
              {
                ofAssistant: {
                  toolCalls: [
                    {
                      id: "c1",
                      function: { name: "get_weather", arguments: '{"location":"Oslo"}' },
                    },
                  ],
                },
              },
              {
                ofTool: {
                  toolId: "c1",
                  name: "get_weather",
                  content: [{ text: "cold, ask ola@example.no" }],
                },
              },
            ],
          },
        ],
        tools,
        scrubPii: true,
      });
      expect(answered.status).toBe(200);
      expect(
        (answered.json.outputs as { choices: { message: { content: string } }[] }[])[0]?.choices[0]
          ?.message.content,
      ).toBe("cold, ask <EMAIL_ADDRESS>");
      const failed = await post({
        inputs: [{ messages: [{ ofUser: { content: [{ text: "hi" }] } }] }],
        metadata: { model: "broken" },
      });
      expect(failed.status).toBe(500);
      expect(failed.json).toEqual({
        errorCode: "ERR_CONVERSATION_INVOKE",
        message: `error invoking conversation component openai: [conversation.openai] ${new URL(server.url).host} answered 500: the model is overloaded`,
      });
    } finally {
      await s.stop();
    }
  });
});
