// A tiny app for `outrig run` (or `dapr run`): plain Node, no dependencies.
//
//   outrig run --app-id myapp --app-port 3000 -- node app.js
//
// - POST /neworder {"data":{"orderId":"42"}} saves the order through the state API;
// - GET  /order reads it back;
// - it subscribes to topic "orders" on component "pubsub" and saves every event it receives.
import { createServer } from "node:http";

const appPort = Number(process.env.APP_PORT ?? 3000);
const sidecar = `http://127.0.0.1:${process.env.DAPR_HTTP_PORT ?? 3500}`;
const stateUrl = `${sidecar}/v1.0/state/statestore`;

async function readJson(request) {
  const chunks = [];
  for await (const chunk of request) chunks.push(chunk);
  const text = Buffer.concat(chunks).toString("utf8");
  return text ? JSON.parse(text) : undefined;
}

function reply(response, status, body) {
  response.writeHead(status, { "content-type": "application/json" });
  response.end(body === undefined ? "" : JSON.stringify(body));
}

async function saveState(key, value) {
  const response = await fetch(stateUrl, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify([{ key, value }]),
  });
  if (!response.ok)
    throw new Error(`state save failed: ${response.status} ${await response.text()}`);
}

const routes = {
  // The sidecar asks this once at start-up to learn the app's subscriptions.
  "GET /dapr/subscribe": async () => [{ pubsubname: "pubsub", topic: "orders", route: "/orders" }],
  "POST /orders": async (request) => {
    const event = await readJson(request);
    await saveState("last-event", event.data);
    console.log(`Received order event ${event.id}: ${JSON.stringify(event.data)}`);
    return { status: "SUCCESS" };
  },
  "POST /neworder": async (request) => {
    const body = await readJson(request);
    const order = body?.data ?? body;
    console.log(`Got a new order! Order ID: ${order?.orderId}`);
    await saveState("order", order);
    console.log("Successfully persisted state.");
    return order;
  },
  "GET /order": async () => {
    const response = await fetch(`${stateUrl}/order`);
    return response.status === 204 ? null : response.json();
  },
};

const server = createServer(async (request, response) => {
  const route = routes[`${request.method} ${request.url?.split("?")[0]}`];
  if (!route) return reply(response, 404, { error: "not found" });
  try {
    reply(response, 200, await route(request));
  } catch (error) {
    console.error(error);
    reply(response, 500, { error: String(error) });
  }
});

server.listen(appPort, "127.0.0.1", () => {
  console.log(`App listening on port ${appPort}; its sidecar is ${sidecar}`);
});

for (const signal of ["SIGINT", "SIGTERM"]) {
  process.on(signal, () => server.close(() => process.exit(0)));
}
