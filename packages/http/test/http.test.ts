import { ComponentError, utf8 } from "@outrig/core";
import { afterAll, describe, expect, it } from "vitest";
import { createHttpBinding, httpBindingDefinition, manifest } from "../src/index.ts";
import { startTestServer } from "./server.ts";

const server = await startTestServer();
afterAll(() => server.close());

const encode = (text: string): Uint8Array => new TextEncoder().encode(text);
const last = () => server.requests.at(-1);

async function rejection(promise: Promise<unknown>): Promise<ComponentError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ComponentError);
  return error as ComponentError;
}

describe("bindings.http", () => {
  it("sends each operation as its method, create as POST, to base url + path", async () => {
    const binding = await createHttpBinding({ url: `${server.url}/base//` });
    for (const op of ["create", "post", "put", "patch", "delete", "options", "head", "get"]) {
      await binding.invoke({ operation: op, data: encode("x"), metadata: { path: "//items/1" } });
      expect(last()?.method).toBe(op === "create" ? "POST" : op.toUpperCase());
      expect(last()?.url).toBe("/base/items/1");
    }
    await binding.close();
  });

  it("sends request metadata as headers (but not path), with JSON defaults", async () => {
    const binding = await createHttpBinding({ url: server.url });
    await binding.invoke({
      operation: "post",
      data: encode("{}"),
      metadata: { path: "echo", "X-Request-Id": "r-1", Authorization: "Bearer t" },
    });
    const request = last();
    expect(request?.headers["x-request-id"]).toBe("r-1");
    expect(request?.headers.authorization).toBe("Bearer t");
    expect(request?.headers.path).toBeUndefined();
    expect(request?.headers["content-type"]).toBe("application/json; charset=utf-8");
    expect(request?.headers.accept).toBe("application/json; charset=utf-8");
    await binding.invoke({
      operation: "put",
      data: encode("a"),
      metadata: { path: "echo", "content-type": "text/plain" },
    });
    expect(last()?.headers["content-type"]).toBe("text/plain");
    expect(utf8(last()?.body ?? new Uint8Array())).toBe("a");
    await binding.close();
  });

  it("returns status and headers in response metadata and the body as data", async () => {
    const binding = await createHttpBinding({ url: server.url });
    const response = await binding.invoke({ operation: "get", metadata: { path: "/echo" } });
    expect(response.metadata?.statusCode).toBe("200");
    expect(response.metadata?.status).toBe("200 OK");
    expect(response.metadata?.["Content-Type"]).toBe("application/json");
    expect(response.metadata?.["X-Multi"]).toBe("a, b");
    expect(response.contentType).toBe("application/json");
    expect(JSON.parse(utf8(response.data as Uint8Array)).method).toBe("GET");
    await binding.close();
  });

  it("rejects a status >= 400 with a ComponentError carrying the status, unless errorIfNot2XX is false", async () => {
    const strict = await createHttpBinding({ url: server.url });
    const notFound = await rejection(
      strict.invoke({ operation: "get", metadata: { path: "status/404" } }),
    );
    expect(notFound.code).toBe("ERR_NOT_FOUND");
    expect(notFound.details).toMatchObject({ statusCode: 404 });
    expect(
      (await rejection(strict.invoke({ operation: "get", metadata: { path: "status/400" } }))).code,
    ).toBe("ERR_INVALID_REQUEST");
    expect(
      (await rejection(strict.invoke({ operation: "post", metadata: { path: "status/503" } })))
        .code,
    ).toBe("ERR_UNAVAILABLE");
    const lenient = await createHttpBinding({ url: server.url, errorIfNot2XX: "false" });
    const response = await lenient.invoke({ operation: "get", metadata: { path: "status/500" } });
    expect(response.metadata?.statusCode).toBe("500");
    expect(response.metadata?.["X-Test"]).toBe("status");
    expect(utf8(response.data as Uint8Array)).toBe("status 500");
    await strict.close();
    await lenient.close();
  });

  it("rejects with ERR_TIMEOUT after responseTimeout", async () => {
    const binding = await createHttpBinding({ url: server.url, responseTimeout: "200ms" });
    const started = Date.now();
    const error = await rejection(
      binding.invoke({ operation: "get", metadata: { path: "slow/3000" } }),
    );
    expect(error.code).toBe("ERR_TIMEOUT");
    expect(Date.now() - started).toBeLessThan(2000);
    await expect(
      binding.invoke({ operation: "get", metadata: { path: "slow/10" } }),
    ).resolves.toBeDefined();
    await binding.close();
  });

  it("rejects a response body larger than maxResponseBodySize and accepts one at the limit", async () => {
    const binding = await createHttpBinding({ url: server.url, maxResponseBodySize: "1Ki" });
    const ok = await binding.invoke({ operation: "get", metadata: { path: "big/1024" } });
    expect(ok.data?.byteLength).toBe(1024);
    const error = await rejection(
      binding.invoke({ operation: "get", metadata: { path: "big/1025" } }),
    );
    expect(error.message).toMatch(/maxResponseBodySize/);
    await binding.close();
  });

  it("sends securityToken in securityTokenHeader, and redacts it", async () => {
    const metadata = { url: server.url, securityToken: "s3cret", securityTokenHeader: "X-Token" };
    const binding = await createHttpBinding(metadata);
    await binding.invoke({ operation: "get", metadata: { path: "echo" } });
    expect(last()?.headers["x-token"]).toBe("s3cret");
    expect(httpBindingDefinition.options.redact(metadata).securityToken).toBe("***");
    await binding.close();
  });

  it("rejects invalid metadata naming every field", async () => {
    await expect(createHttpBinding({})).rejects.toMatchObject({ code: "ERR_CONFIG_INVALID" });
    const error = await rejection(
      createHttpBinding({
        url: "ftp://x",
        maxResponseBodySize: "lots",
        securityToken: "t",
        errorIfNot2XX: "maybe",
      }),
    );
    expect(error.code).toBe("ERR_CONFIG_INVALID");
    expect(error.message).toMatch(/errorIfNot2XX/);
    const url = await rejection(
      createHttpBinding({ url: "ftp://x", maxResponseBodySize: "lots", securityToken: "t" }),
    );
    for (const field of ["url", "maxResponseBodySize", "securityTokenHeader"])
      expect(url.message).toContain(field);
  });

  it("rejects an unknown operation with ERR_NOT_SUPPORTED and an unreachable server with ERR_UNAVAILABLE", async () => {
    const binding = await createHttpBinding({ url: server.url });
    expect((await rejection(binding.invoke({ operation: "trace" }))).code).toBe(
      "ERR_NOT_SUPPORTED",
    );
    await binding.close();
    const dead = await createHttpBinding({ url: "http://127.0.0.1:1" });
    expect((await rejection(dead.invoke({ operation: "get" }))).code).toBe("ERR_UNAVAILABLE");
    expect((await rejection(dead.ping())).code).toBe("ERR_UNAVAILABLE");
    await dead.close();
  });

  it("close aborts a request in flight with ERR_CLOSED", async () => {
    const binding = await createHttpBinding({ url: server.url });
    const pending = binding.invoke({ operation: "get", metadata: { path: "slow/5000" } });
    await new Promise((r) => setTimeout(r, 100));
    await binding.close();
    expect((await rejection(pending)).code).toBe("ERR_CLOSED");
  });

  it("is in the manifest as an output binding", () => {
    expect(manifest.components.map((c) => c.type)).toEqual([
      "bindings.http",
      "conversation.openai",
    ]);
    expect(httpBindingDefinition.directions).toEqual(["output"]);
  });
});
