// The conversation API through the sidecar (issue 20 §4), over HTTP and gRPC, with
// conversation.echo: Dapr's request and response shapes (the conversation quickstart's HTTP
// calls), tool calls, PII scrubbing both ways, Alpha1, and Dapr's error codes.
import * as grpc from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { daprProtos } from "../src/grpc/protos.ts";
import type { Sidecar } from "../src/index.ts";
import { STATE_AND_PUBSUB, sidecar } from "./helpers.ts";

const TOKEN = "conversation-token";
let s: Sidecar;
beforeAll(async () => {
  s = await sidecar({
    grpcPort: 0,
    apiToken: TOKEN,
    resources: `${STATE_AND_PUBSUB}
---
apiVersion: dapr.io/v1alpha1
kind: Component
metadata:
  name: echo
spec:
  type: conversation.echo
  version: v1
  metadata:
    - name: model
      value: echo-model
`,
  });
});
afterAll(() => s?.stop());

// biome-ignore lint/suspicious/noExplicitAny: the test walks deep response JSON and asserts its shape
type Json = any;

async function post(path: string, body: unknown): Promise<{ status: number; json: Json }> {
  const res = await fetch(`${s.url}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json", "dapr-api-token": TOKEN },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
  return { status: res.status, json: await res.json() };
}

const converse = (body: unknown, name = "echo") =>
  post(`/v1.0-alpha2/conversation/${name}/converse`, body);

const userInput = (text: string, scrubPii?: boolean) => ({
  messages: [{ ofUser: { content: [{ text }] } }],
  ...(scrubPii === undefined ? {} : { scrubPii }),
});

const WEATHER = {
  function: {
    name: "get_weather",
    description: "Get the current weather for a location",
    parameters: {
      type: "object",
      properties: {
        location: { type: "string", description: "The city and state" },
        unit: { type: "string", enum: ["celsius", "fahrenheit"] },
      },
      required: ["location"],
    },
  },
};

describe("HTTP /v1.0-alpha2/conversation/{name}/converse", () => {
  it("answers the quickstart's request in Dapr's protojson shape", async () => {
    const { status, json } = await converse({
      inputs: [userInput("What is dapr?")],
      parameters: {},
      metadata: {},
    });
    expect(status).toBe(200);
    expect(json).toEqual({
      outputs: [
        {
          choices: [{ finishReason: "stop", message: { content: "What is dapr?" } }],
          model: "echo-model",
          usage: { completionTokens: "3", promptTokens: "3", totalTokens: "6" },
        },
      ],
    });
  });

  it("takes every input's messages as one conversation, keeps contextId, honours metadata.model from the URL", async () => {
    const { status, json } = await post(
      "/v1.0-alpha2/conversation/echo/converse?metadata.model=url-model",
      {
        contextId: "chat-7",
        metadata: { model: "body-model" },
        inputs: [
          {
            messages: [
              { ofSystem: { content: [{ text: "be brief" }] } },
              { ofUser: { name: "ann", content: [{ text: "first" }] } },
            ],
          },
          {
            messages: [
              { ofAssistant: { content: [{ text: "ok" }] } },
              { of_user: { content: [{ text: "second" }, { text: " part" }] } },
            ],
          },
        ],
        temperature: 0.2,
      },
    );
    expect(status).toBe(200);
    expect(json.contextId).toBe("chat-7");
    expect(json.outputs[0].choices[0].message.content).toBe("second part");
    expect(json.outputs[0].model).toBe("url-model");
  });

  it("calls a tool the message names: finishReason tool_calls, Dapr's toolCalls shape, JSON arguments", async () => {
    const { status, json } = await converse({
      inputs: [userInput("Please use get_weather for San Francisco")],
      tools: [WEATHER],
      toolChoice: "auto",
    });
    expect(status).toBe(200);
    const choice = json.outputs[0].choices[0];
    expect(choice.finishReason).toBe("tool_calls");
    expect(choice.message.content).toBeUndefined();
    expect(choice.message.toolCalls).toHaveLength(1);
    const call = choice.message.toolCalls[0];
    expect(call.id).toMatch(/^call_echo_\d+$/);
    expect(call.function.name).toBe("get_weather");
    expect(JSON.parse(call.function.arguments)).toEqual({
      location: "Please use get_weather for San Francisco",
      unit: "Please use get_weather for San Francisco",
    });
  });

  it("toolChoice none calls nothing; a tool's result (ofTool) is answered in text", async () => {
    const none = await converse({
      inputs: [userInput("use get_weather")],
      tools: [WEATHER],
      toolChoice: "none",
    });
    expect(none.json.outputs[0].choices[0]).toEqual({
      finishReason: "stop",
      message: { content: "use get_weather" },
    });
    const answered = await converse({
      inputs: [
        {
          messages: [
            { ofUser: { content: [{ text: "weather in Paris?" }] } },
            {
              ofAssistant: {
                toolCalls: [
                  {
                    id: "call_1",
                    function: { name: "get_weather", arguments: '{"location":"Paris"}' },
                  },
                ],
              },
            },
            {
              ofTool: { toolId: "call_1", name: "get_weather", content: [{ text: '{"temp":21}' }] },
            },
          ],
        },
      ],
      tools: [WEATHER],
    });
    expect(answered.status).toBe(200);
    expect(answered.json.outputs[0].choices[0].message.content).toBe('{"temp":21}');
  });

  it("scrubPii on an input scrubs what goes to the model; on the request, what comes back", async () => {
    const pii =
      "mail jane@example.com, call +14155552671, card 4111 1111 1111 1111, ip 10.1.2.3, ssn 123-45-6789";
    const scrubbed =
      "mail <EMAIL_ADDRESS>, call <PHONE_NUMBER>, card <CREDIT_CARD>, ip <IP>, ssn <US_SSN>";
    const input = await converse({ inputs: [userInput(pii, true)] });
    expect(input.json.outputs[0].choices[0].message.content).toBe(scrubbed);
    const output = await converse({ inputs: [userInput(pii)], scrubPii: true });
    expect(output.json.outputs[0].choices[0].message.content).toBe(scrubbed);
    const neither = await converse({ inputs: [userInput(pii)] });
    expect(neither.json.outputs[0].choices[0].message.content).toBe(pii);
  });

  it("answers Dapr's error codes", async () => {
    const cases: [unknown, string, number, string][] = [
      [{ inputs: [userInput("x")] }, "nosuch", 400, "ERR_CONVERSATION_NOT_FOUND"],
      [{}, "echo", 400, "ERR_CONVERSATION_MISSING_INPUTS"],
      [{ inputs: [] }, "echo", 400, "ERR_CONVERSATION_MISSING_INPUTS"],
      [{ inputs: [{ messages: [] }] }, "echo", 400, "ERR_CONVERSATION_MISSING_INPUTS"],
      [{ inputs: "x" }, "echo", 400, "ERR_MALFORMED_REQUEST"],
      ["{not json", "echo", 400, "ERR_MALFORMED_REQUEST"],
      [
        {
          inputs: [
            { messages: [{ ofUser: { content: [{ text: "a" }] }, ofSystem: { content: [] } }] },
          ],
        },
        "echo",
        400,
        "ERR_MALFORMED_REQUEST",
      ],
      [{ inputs: [userInput("x")], temperature: "hot" }, "echo", 400, "ERR_MALFORMED_REQUEST"],
      [
        { inputs: [userInput("x")], tools: [{ function: {} }] },
        "echo",
        400,
        "ERR_MALFORMED_REQUEST",
      ],
      [
        { inputs: [userInput("x")], tools: [WEATHER], toolChoice: "get_time" },
        "echo",
        400,
        "ERR_CONVERSATION_INVALID_PARMS",
      ],
      [
        { inputs: [userInput("x")], responseFormat: { type: "json_object" } },
        "echo",
        400,
        "ERR_CONVERSATION_INVOKE",
      ],
    ];
    for (const [body, name, status, errorCode] of cases) {
      const res = await converse(body, name);
      expect(res, JSON.stringify(body)).toMatchObject({ status, json: { errorCode } });
    }
    const missing = await converse({}, "echo");
    expect(missing.json.message).toBe("missing inputs in request for conversation component echo");
    const wrong = await converse({ inputs: [userInput("x")] }, "nosuch");
    expect(wrong.json.message).toBe("failed finding conversation component nosuch");
  });

  it("GET on the route is 405, not an invocation", async () => {
    const res = await fetch(`${s.url}/v1.0-alpha2/conversation/echo/converse`, {
      headers: { "dapr-api-token": TOKEN },
    });
    expect(res.status).toBe(405);
  });
});

describe("HTTP /v1.0-alpha1/conversation/{name}/converse (deprecated)", () => {
  it("answers {outputs: [{result, parameters}]}, contextID kept, scrubPII both ways", async () => {
    const { status, json } = await post("/v1.0-alpha1/conversation/echo/converse", {
      contextID: "c1",
      inputs: [{ content: "hello jane@example.com", role: "user" }],
      parameters: {
        max_tokens: { "@type": "type.googleapis.com/google.protobuf.Int64Value", value: "100" },
      },
      scrubPII: true,
    });
    expect(status).toBe(200);
    expect(json).toEqual({
      contextID: "c1",
      outputs: [
        {
          result: "hello <EMAIL_ADDRESS>",
          parameters: {
            max_tokens: { "@type": "type.googleapis.com/google.protobuf.Int64Value", value: "100" },
          },
        },
      ],
    });
    const bad = await post("/v1.0-alpha1/conversation/echo/converse", {
      inputs: [{ content: "x", role: "robot" }],
    });
    expect(bad).toMatchObject({
      status: 400,
      json: { errorCode: "ERR_CONVERSATION_INVALID_PARMS" },
    });
  });
});

describe("the metadata API", () => {
  it("lists the conversation component with its capabilities", async () => {
    const res = await fetch(`${s.url}/v1.0/metadata`, { headers: { "dapr-api-token": TOKEN } });
    const { components } = (await res.json()) as { components: Record<string, unknown>[] };
    expect(components).toContainEqual({
      name: "echo",
      type: "conversation.echo",
      version: "v1",
      capabilities: ["TOOL_CALLING"],
    });
  });
});

describe("gRPC ConverseAlpha2 and ConverseAlpha1", () => {
  type Callback = (e: grpc.ServiceError | null, r: Json) => void;
  const rpc = (method: string, request: object): Promise<Json> => {
    const { dapr } = daprProtos();
    const client = new dapr.dapr.proto.runtime.v1.Dapr(
      `127.0.0.1:${s.grpcPort}`,
      grpc.credentials.createInsecure(),
    ) as unknown as Record<string, (r: object, m: grpc.Metadata, cb: Callback) => void> & {
      close(): void;
    };
    const metadata = new grpc.Metadata();
    metadata.set("dapr-api-token", TOKEN);
    return new Promise((resolve, reject) =>
      (client[method] as (r: object, m: grpc.Metadata, cb: Callback) => void).call(
        client,
        request,
        metadata,
        (e, r) => {
          client.close();
          if (e) reject(e);
          else resolve(r);
        },
      ),
    );
  };

  it("ConverseAlpha2: messages, tools as a Struct schema, a forced tool call, usage and model", async () => {
    const r = await rpc("ConverseAlpha2", {
      name: "echo",
      contextId: "g-1",
      inputs: [{ messages: [{ ofUser: { content: [{ text: "weather in Oslo?" }] } }] }],
      tools: [
        {
          function: {
            name: "get_weather",
            parameters: {
              fields: {
                type: { stringValue: "object" },
                properties: {
                  structValue: {
                    fields: {
                      location: {
                        structValue: { fields: { type: { stringValue: "string" } } },
                      },
                      days: { structValue: { fields: { type: { stringValue: "integer" } } } },
                    },
                  },
                },
              },
            },
          },
        },
      ],
      toolChoice: "get_weather",
    });
    expect(r.contextId).toBe("g-1");
    const [output] = r.outputs;
    expect(output.model).toBe("echo-model");
    expect(output.usage.promptTokens).toBe("4");
    const [choice] = output.choices;
    expect(choice.finishReason).toBe("tool_calls");
    const [call] = choice.message.toolCalls;
    expect(call.function.name).toBe("get_weather");
    expect(JSON.parse(call.function.arguments)).toEqual({ location: "weather in Oslo?", days: 42 });
  });

  it("ConverseAlpha2: output scrubbing; an unknown component is INVALID_ARGUMENT naming it", async () => {
    const r = await rpc("ConverseAlpha2", {
      name: "echo",
      inputs: [{ messages: [{ ofUser: { content: [{ text: "at 192.168.0.1" }] } }] }],
      scrubPii: true,
    });
    expect(r.outputs[0].choices[0].message.content).toBe("at <IP>");
    const e = (await rpc("ConverseAlpha2", {
      name: "nosuch",
      inputs: [{ messages: [{ ofUser: { content: [{ text: "x" }] } }] }],
    }).catch((error: unknown) => error)) as grpc.ServiceError;
    expect(e.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(e.details).toBe("failed finding conversation component nosuch");
    const empty = (await rpc("ConverseAlpha2", { name: "echo" }).catch(
      (error: unknown) => error,
    )) as grpc.ServiceError;
    expect(empty.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(empty.details).toBe("missing inputs in request for conversation component echo");
  });

  it("ConverseAlpha1: one result, the request's parameters echoed as Any", async () => {
    const wrapped = Buffer.from([0x0a, 0x03, 0x61, 0x62, 0x63]); // StringValue "abc"
    const r = await rpc("ConverseAlpha1", {
      name: "echo",
      inputs: [{ content: "hi there", role: "user" }],
      parameters: {
        p: { type_url: "type.googleapis.com/google.protobuf.StringValue", value: wrapped },
      },
    });
    expect(r.outputs).toHaveLength(1);
    expect(r.outputs[0].result).toBe("hi there");
    expect(r.outputs[0].parameters.p.type_url).toBe(
      "type.googleapis.com/google.protobuf.StringValue",
    );
    expect(Buffer.from(r.outputs[0].parameters.p.value)).toEqual(wrapped);
  });
});
