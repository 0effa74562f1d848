import { randomUUID } from "node:crypto";
import { createServer, connect as netConnect, type Socket } from "node:net";
import { startRabbitMQ, useService } from "@outrig/conformance/services";
import { waitUntil } from "@outrig/conformance/testing";
import { utf8 } from "@outrig/core";
import { describe, expect, it } from "vitest";
import { createRabbitMQBinding } from "../src/binding.ts";
import { createRabbitMQPubSub } from "../src/index.ts";
import { CONNECT_TIMEOUT_MS } from "../src/recovery.ts";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * A loopback TCP proxy to the broker that can drop every connection and then, for a while, accept
 * new ones without ever forwarding or answering them: what a client sees when its SYN reaches a
 * host that is not there yet (the connection attempt neither succeeds nor fails by itself).
 */
async function silentProxy(host: string, port: number) {
  let silentUntil = 0;
  const sockets = new Set<Socket>();
  const track = (socket: Socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    socket.on("error", () => {});
  };
  const server = createServer((client) => {
    track(client);
    if (Date.now() < silentUntil) return;
    const upstream = netConnect(port, host);
    track(upstream);
    client.pipe(upstream).pipe(client);
    client.on("close", () => upstream.destroy());
    upstream.on("close", () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    port: (server.address() as { port: number }).port,
    dropAndStaySilent(ms: number) {
      silentUntil = Date.now() + ms;
      for (const socket of sockets) socket.destroy();
    },
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise((r) => server.close(r));
    },
  };
}

describe("bindings.rabbitmq reconnect", () => {
  const broker = useService(() => startRabbitMQ({ container: true }));

  it("loses no confirmed message across a broker restart: every create that resolved is read", async () => {
    const metadata = {
      host: broker().url,
      queueName: `binding-restart-${randomUUID().slice(0, 8)}`,
      durable: "true",
      reconnectWait: "500ms",
    };
    const output = await createRabbitMQBinding(metadata);
    const input = await createRabbitMQBinding(metadata);
    const got = new Set<string>();
    await input.read(async (event) => {
      got.add(utf8(event.data));
      return null;
    });

    // One create after another, all the way through the restart: those that resolved (the broker
    // confirmed them) must all be read, including any whose confirm raced the disconnect.
    const confirmed: string[] = [];
    let failed = 0;
    let restarted = false;
    let afterRestart = 0;
    let stop = false;
    const publishing = (async () => {
      for (let n = 0; !stop; n++) {
        const body = `m-${n}`;
        try {
          await output.invoke({ operation: "create", data: new TextEncoder().encode(body) });
          confirmed.push(body);
          if (restarted) afterRestart++;
        } catch {
          failed++; // not confirmed: may or may not arrive
          await sleep(100);
        }
        await sleep(20);
      }
    })();
    await waitUntil(
      () => confirmed.length >= 20,
      10_000,
      () => "20 creates before the restart",
    );
    await broker().restart();
    restarted = true;
    await waitUntil(
      () => afterRestart >= 20,
      45_000,
      () => `20 creates confirmed after the restart (${failed} failed meanwhile)`,
    );
    stop = true;
    await publishing;

    const missing = () => confirmed.filter((m) => !got.has(m));
    await waitUntil(
      () => missing().length === 0,
      30_000,
      () => `all ${confirmed.length} confirmed creates read (missing ${missing().join(",")})`,
    );
    expect(missing()).toEqual([]);
    await expect(input.ping()).resolves.toBeUndefined();
    await input.close();
    await output.close();
  }, 120_000);

  it("gives up a reconnect attempt that gets no answer and tries again: binding readers and pub/sub subscriptions resume", async () => {
    const url = new URL(broker().url);
    const proxy = await silentProxy(url.hostname, Number(url.port));
    const viaProxy = new URL(url);
    viaProxy.port = String(proxy.port);
    const queueName = `binding-silent-${randomUUID().slice(0, 8)}`;
    const topic = `silent-${randomUUID().slice(0, 8)}`;
    const stop = new AbortController();
    const input = await createRabbitMQBinding({
      host: viaProxy.href,
      queueName,
      reconnectWait: "500ms",
    });
    const subscriber = await createRabbitMQPubSub({
      connectionString: viaProxy.href,
      consumerID: `c-${randomUUID().slice(0, 8)}`,
      deletedWhenUnused: "false",
      reconnectWait: "500ms",
    });
    const output = await createRabbitMQBinding({ host: broker().url, queueName });
    const publisher = await createRabbitMQPubSub({
      connectionString: broker().url,
      deletedWhenUnused: "false",
    });
    try {
      const read: string[] = [];
      const delivered: string[] = [];
      await input.read(async (event) => {
        read.push(utf8(event.data));
        return null;
      }, stop.signal);
      await subscriber.subscribe({ topic, signal: stop.signal }, async (m) => {
        delivered.push(utf8(m.data));
      });
      // The first reconnect attempts (100 ms after the drop) land in the silence; only a bounded
      // attempt lets recovery try again once the proxy forwards.
      proxy.dropAndStaySilent(1_000);
      await sleep(1_500);
      await output.invoke({ operation: "create", data: new TextEncoder().encode("later") });
      await publisher.publish({ topic, data: new TextEncoder().encode("later") });
      await waitUntil(
        () => read.includes("later") && delivered.includes("later"),
        CONNECT_TIMEOUT_MS + 10_000,
        () =>
          `the reader (${read.join(",")}) and the subscription (${delivered.join(",")}) resumed`,
      );
    } finally {
      stop.abort();
      await Promise.allSettled([input, subscriber, output, publisher].map((c) => c.close()));
      await proxy.close();
    }
  }, 60_000);
});
