// Done-when of issue 14: a load of 10k slow sockets without a token leaves authenticated requests
// served. Loopback only, bounded in count and time, stops by itself.
//
// The sidecar runs in this process, so each socket costs two file descriptors while both ends are
// open. With the default connection cap (4096) the server evicts the oldest unadmitted socket for
// each new one, so at most ~4096 attacker sockets are open at once (~8.2k descriptors, under this
// machine's limit of 20000); all 10,000 are opened, in batches of 500.
import { request } from "node:http";
import { connect, type Socket } from "node:net";
import { afterAll, expect, it } from "vitest";
import { DEFAULT_MAX_CONNECTIONS, type Sidecar } from "../../src/index.ts";
import { sidecar } from "../helpers.ts";

const TOTAL = 10_000;
const BATCH = 500;
const TOKEN = "slow-socket-token";

let s: Sidecar | undefined;
const open = new Set<Socket>();
afterAll(async () => {
  for (const socket of open) socket.destroy();
  await s?.stop();
});

function authenticated(port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({
      host: "127.0.0.1",
      port,
      path: "/v1.0/metadata",
      headers: { "dapr-api-token": TOKEN },
      agent: false,
      timeout: 10_000,
    });
    req.once("response", (res) => {
      res.resume();
      res.once("end", () => resolve(res.statusCode ?? 0));
    });
    req.once("timeout", () => req.destroy(new Error("no answer in 10 s")));
    req.once("error", reject);
    req.end();
  });
}

it("serves authenticated requests through 10k slow sockets without a token", {
  timeout: 60_000,
}, async () => {
  s = await sidecar({ apiToken: TOKEN });
  const port = s.httpPort;
  const rssBefore = process.memoryUsage().rss;
  let opened = 0;
  let maxOpen = 0;
  const served: number[] = [];
  for (let b = 0; b < TOTAL / BATCH; b++) {
    await Promise.all(
      Array.from({ length: BATCH }, () => {
        const socket = connect({ host: "127.0.0.1", port });
        open.add(socket);
        socket.on("error", () => undefined);
        socket.once("close", () => open.delete(socket));
        return new Promise<void>((resolve) => {
          socket.once("connect", () => {
            opened++;
            // Partial headers, no token, then silence.
            socket.write("GET /v1.0/metadata HTTP/1.1\r\nhost: x\r\n", () => resolve());
          });
          socket.once("close", () => resolve());
        });
      }),
    );
    maxOpen = Math.max(maxOpen, open.size);
    served.push(await authenticated(port));
  }
  expect(opened).toBe(TOTAL);
  expect(served).toEqual(Array(TOTAL / BATCH).fill(200));
  // The cap held (a few sockets may be between the server's destroy and our close event).
  expect(maxOpen).toBeLessThanOrEqual(DEFAULT_MAX_CONNECTIONS + BATCH);
  expect(process.memoryUsage().rss - rssBefore).toBeLessThan(512 * 2 ** 20);
  process.stderr.write(
    `slow sockets: opened ${opened}, at most ${maxOpen} open at once, ${served.length} authenticated requests served\n`,
  );
});
