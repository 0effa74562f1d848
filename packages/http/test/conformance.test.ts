import { describeBindingConformance } from "@outrig/conformance";
import { afterAll } from "vitest";
import { createHttpBinding, httpBindingDefinition } from "../src/index.ts";
import { startTestServer } from "./server.ts";

// Dapr's suite starts a local HTTP server for the http binding; so does this one.
const server = await startTestServer();
afterAll(() => server.close());

describeBindingConformance({
  name: "http",
  definition: httpBindingDefinition,
  createOutput: () => createHttpBinding({ url: `${server.url}/api/` }),
  operations: ["operations", "create", "get", "delete", "head", "post", "put", "patch", "options"],
  outputMetadata: (ctx) => ({ path: ctx.unique(), "Content-Type": "application/json" }),
  quietPeriodMs: 200,
});
