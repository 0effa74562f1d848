// Resiliency policies of `targets.actors.<type>` applied to the sidecar's calls into the app: a
// real sidecar in its own process, an HTTP app serving Dapr's actor routes that fails, hangs or
// answers as each test asks, and the app's own count of the calls it got.
import type { ServerResponse } from "node:http";
import { setTimeout as sleep } from "node:timers/promises";
import * as grpc from "@grpc/grpc-js";
import { silentLogger } from "@outrig/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { daprProtos } from "../src/grpc/protos.ts";
import { ResiliencyPolicies } from "../src/resiliency/policies.ts";
import { parseResources } from "../src/resources/parse.ts";
import { ACTOR_STORE } from "./fixtures/counter-actor.ts";
import { fakeApp, type Received, until } from "./helpers.ts";
import { sidecarProcess } from "./sidecar-process.ts";

const TYPES = ["Flaky", "Picky", "Slow", "PerId", "PerType", "Both"];

const RESILIENCY = `apiVersion: dapr.io/v1alpha1
kind: Resiliency
metadata:
  name: actor-policies
spec:
  policies:
    timeouts:
      short: 200ms
    retries:
      thrice:
        policy: constant
        duration: 10ms
        maxRetries: 3
      only503:
        policy: constant
        duration: 10ms
        maxRetries: 3
        matching:
          httpStatusCodes: "503"
    circuitBreakers:
      cb:
        maxRequests: 1
        timeout: 60s
        trip: consecutiveFailures > 2
  targets:
    actors:
      Flaky:
        retry: thrice
      Picky:
        retry: only503
      Slow:
        timeout: short
      PerId:
        circuitBreaker: cb
        circuitBreakerScope: id
      PerType:
        circuitBreaker: cb
        circuitBreakerScope: type
      Both:
        circuitBreaker: cb
        circuitBreakerScope: both
`;

/** App calls per `type/id/method`. */
const calls = new Map<string, number>();
/** Turns in the app at this moment, and the most ever seen at once, per actor. */
const inFlight = new Map<string, number>();
let mostAtOnce = 0;

function count(key: string): number {
  return calls.get(key) ?? 0;
}

/**
 * The actor methods (and timers and reminders, by their name): `ok` answers 200; `fail` 500; `unavailable`
 * 503; `missing` 404; `flaky<N>` fails with 500 on its first N calls for an actor, then answers
 * 200; `dotnet<N>` answers 200 with the .NET SDK's error header N times, then without;
 * `alternate` fails every other call; `slow` answers after 5 s.
 */
async function answer(r: Received, res: ServerResponse): Promise<void> {
  if (r.method === "GET" && r.url === "/dapr/config") {
    res.writeHead(200, { "content-type": "application/json" });
    res.end(JSON.stringify({ entities: TYPES, actorIdleTimeout: "1h" }));
    return;
  }
  const m = /^\/actors\/([^/]+)\/([^/]+)\/method\/([^?]+)/.exec(r.url);
  if (r.method !== "PUT" || !m) {
    res.writeHead(200).end();
    return;
  }
  const [, type, id, method] = m as unknown as [string, string, string, string];
  const actor = `${type}/${id}`;
  const n = (calls.get(`${actor}/${method}`) ?? 0) + 1;
  calls.set(`${actor}/${method}`, n);
  const now = (inFlight.get(actor) ?? 0) + 1;
  inFlight.set(actor, now);
  mostAtOnce = Math.max(mostAtOnce, now);
  const reply = (status: number, body: string) => {
    inFlight.set(actor, (inFlight.get(actor) ?? 1) - 1);
    res.writeHead(status, { "content-type": "text/plain" });
    res.end(body);
  };
  const behaviour = method.replace(/^(timer|remind)\//, "");
  if (behaviour === "slow") {
    res.once("close", () => inFlight.set(actor, (inFlight.get(actor) ?? 1) - 1));
    await sleep(5000);
    if (!res.destroyed) res.writeHead(200).end("late");
    return;
  }
  // A moment inside the turn, so concurrent turns would overlap if the runtime let them.
  await sleep(5);
  const flaky = /^flaky(\d+)$/.exec(behaviour);
  if (flaky) return reply(n <= Number(flaky[1]) ? 500 : 200, n <= Number(flaky[1]) ? "no" : "ok");
  const dotnet = /^dotnet(\d+)$/.exec(behaviour);
  if (dotnet && n <= Number(dotnet[1])) {
    res.setHeader("X-DaprErrorResponseHeader", "true");
    return reply(200, "failed");
  }
  if (behaviour === "alternate") return reply(n % 2 === 1 ? 500 : 200, `call ${n}`);
  if (behaviour === "fail") return reply(500, "broken");
  if (behaviour === "unavailable") return reply(503, "unavailable");
  if (behaviour === "missing") return reply(404, "no such method");
  return reply(200, "ok");
}

let app: Awaited<ReturnType<typeof fakeApp>>;
interface Ports {
  url: string;
  grpcPort: number;
  metricsPort: number;
}

let proc: Awaited<ReturnType<typeof sidecarProcess<Ports>>>;

/** Registers a one-shot timer `name` on `actor` (activated first, as a timer needs). */
async function timer(actor: string, name: string): Promise<void> {
  expect((await call(actor, "ok")).status).toBe(200);
  const res = await fetch(`${proc.url}/v1.0/actors/${actor}/timers/${name}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ dueTime: "0s", callback: name }),
  });
  expect(res.status).toBe(204);
}

function call(actor: string, method: string): Promise<Response> {
  return fetch(`${proc.url}/v1.0/actors/${actor}/method/${method}`, {
    method: "PUT",
    headers: { "content-type": "application/json" },
    body: "{}",
    signal: AbortSignal.timeout(15_000),
  });
}

async function errorOf(res: Response): Promise<{ errorCode?: string; message?: string }> {
  return (await res.json()) as { errorCode?: string; message?: string };
}

beforeAll(async () => {
  app = await fakeApp((r, res) => void answer(r, res), { actors: true });
  proc = await sidecarProcess<Ports>(
    { ACTORS_APP_PORT: String(app.port), ACTORS_RESOURCES: `${ACTOR_STORE}---\n${RESILIENCY}` },
    "resilient-actors-sidecar.ts",
  );
}, 30_000);

afterAll(async () => {
  await proc?.kill();
  await app?.close();
});

describe("actor retries", () => {
  it("retry a failing method inside its turn until the app answers: N failures, N + 1 calls", async () => {
    const res = await call("Flaky/f1", "flaky2");
    expect(res.status).toBe(200);
    expect(await res.text()).toBe("ok");
    expect(count("Flaky/f1/flaky2")).toBe(3);
  });

  it("give the caller the app's last error answer once maxRetries is spent", async () => {
    const res = await call("Flaky/f2", "flaky9");
    expect(res.status).toBe(500);
    expect(await res.text()).toBe("no");
    expect(count("Flaky/f2/flaky9")).toBe(4);
  });

  it("retry only the statuses matching.httpStatusCodes names", async () => {
    const failed = await call("Picky/p1", "fail");
    expect(failed.status).toBe(500);
    expect(count("Picky/p1/fail")).toBe(1);
    const unavailable = await call("Picky/p1", "unavailable");
    expect(unavailable.status).toBe(503);
    expect(count("Picky/p1/unavailable")).toBe(4);
  });

  it("not retry a method the app does not have (404), as daprd makes it permanent", async () => {
    const res = await call("Flaky/n1", "missing");
    expect(res.status).toBe(404);
    expect(count("Flaky/n1/missing")).toBe(1);
  });

  it("count the .NET SDK's error header as a failure", async () => {
    const res = await call("Flaky/h1", "dotnet2");
    expect(res.status).toBe(200);
    expect(res.headers.get("x-daprerrorresponseheader")).toBeNull();
    expect(count("Flaky/h1/dotnet2")).toBe(3);
  });

  it("leave timer callbacks unretried (daprd retries method invocations only)", async () => {
    await timer("Flaky/t1", "fail");
    await until(() => count("Flaky/t1/timer/fail") >= 1);
    // Three retries 10 ms apart would have come by now.
    await sleep(300);
    expect(count("Flaky/t1/timer/fail")).toBe(1);
  });

  it("never run two turns of one actor at once while concurrent calls are retried", async () => {
    mostAtOnce = 0;
    const answers = await Promise.all(
      Array.from({ length: 4 }, () => call("Flaky/conc", "alternate")),
    );
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200, 200]);
    // Each caller's first attempt fails (odd call), its retry succeeds (even call).
    expect(count("Flaky/conc/alternate")).toBe(8);
    expect(mostAtOnce).toBe(1);
  });
});

describe("actor timeouts", () => {
  it("fail a call the app does not answer within the timeout, and free the actor's turn", async () => {
    const began = performance.now();
    const res = await call("Slow/s1", "slow");
    const took = performance.now() - began;
    expect(res.status).toBe(500);
    const error = await errorOf(res);
    expect(error.errorCode).toBe("ERR_ACTOR_INVOKE_METHOD");
    expect(error.message).toMatch(/timed out after 200ms/);
    // The app would answer after 5 s; the caller hears of the timeout well before.
    expect(took).toBeGreaterThanOrEqual(150);
    expect(took).toBeLessThan(3000);
    expect(count("Slow/s1/slow")).toBe(1);
    // The turn is over: the next call to the same actor runs.
    const next = await call("Slow/s1", "ok");
    expect(next.status).toBe(200);
  });

  it("end a reminder tick the app does not answer within the timeout, freeing the turn", async () => {
    const res = await fetch(`${proc.url}/v1.0/actors/Slow/r1/reminders/slow`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ dueTime: "0s" }),
    });
    expect(res.status).toBe(204);
    await until(() => count("Slow/r1/remind/slow") >= 1, 10_000);
    const began = performance.now();
    const next = await call("Slow/r1", "ok");
    expect(next.status).toBe(200);
    // Without the timeout this call would wait out the tick's 5 s.
    expect(performance.now() - began).toBeLessThan(3000);
  });

  it("end a timer callback the app does not answer within the timeout, freeing the turn", async () => {
    await timer("Slow/t1", "slow");
    await until(() => count("Slow/t1/timer/slow") === 1);
    const began = performance.now();
    const next = await call("Slow/t1", "ok");
    expect(next.status).toBe(200);
    // Without the timeout this call would wait out the callback's 5 s.
    expect(performance.now() - began).toBeLessThan(3000);
  });
});

describe("actor circuit breakers", () => {
  /** Fails `actor` `times` times through the app, each answered with the app's 500. */
  async function failTimes(actor: string, times: number): Promise<void> {
    for (let i = 0; i < times; i++) expect((await call(actor, "fail")).status).toBe(500);
  }

  async function expectRefused(actor: string): Promise<void> {
    const before = count(`${actor}/ok`);
    const res = await call(actor, "ok");
    expect(res.status).toBe(500);
    const error = await errorOf(res);
    expect(error.errorCode).toBe("ERR_ACTOR_INVOKE_METHOD");
    expect(error.message).toMatch(/circuit breaker .* is open/);
    expect(count(`${actor}/ok`)).toBe(before);
  }

  it("scope id: open for the failing id only; another id of the type still reaches the app", async () => {
    await failTimes("PerId/a", 3);
    expect(count("PerId/a/fail")).toBe(3);
    await expectRefused("PerId/a");
    const other = await call("PerId/b", "ok");
    expect(other.status).toBe(200);
    expect(count("PerId/b/ok")).toBe(1);
  });

  it("scope type: failures of one id open the breaker for every id of the type", async () => {
    await failTimes("PerType/a", 3);
    await expectRefused("PerType/a");
    await expectRefused("PerType/b");
    expect(count("PerType/b/ok")).toBe(0);
  });

  it("scope both: the id's breaker and the type's each trip on their own", async () => {
    // a fails three times in a row, the type never twice in a row: only a's breaker opens.
    for (let i = 0; i < 3; i++) {
      expect((await call("Both/a", "fail")).status).toBe(500);
      expect((await call("Both/b", "ok")).status).toBe(200);
    }
    await expectRefused("Both/a");
    expect((await call("Both/b", "ok")).status).toBe(200);
    // Three failures in a row across ids (none of them three times): the type's breaker opens.
    await failTimes("Both/c", 2);
    await failTimes("Both/d", 1);
    await expectRefused("Both/e");
    await expectRefused("Both/b");
  });
});

describe("actor policies over the gRPC API", () => {
  type Answer = { error: grpc.ServiceError | null; data?: Buffer };
  /** InvokeActor on the sidecar's gRPC API, as the SDKs' gRPC actor proxies call it. */
  async function invokeActor(actorType: string, actorId: string, method: string): Promise<Answer> {
    const { dapr } = daprProtos();
    const Client = grpc.makeClientConstructor(dapr.dapr.proto.runtime.v1.Dapr.service, "Dapr");
    const raw = new Client(
      `127.0.0.1:${proc.info.grpcPort}`,
      grpc.credentials.createInsecure(),
    ) as never as {
      InvokeActor(r: object, cb: (e: grpc.ServiceError | null, r?: { data: Buffer }) => void): void;
      close(): void;
    };
    try {
      return await new Promise<Answer>((resolve) =>
        raw.InvokeActor({ actorType, actorId, method }, (error, r) =>
          resolve({ error, ...(r ? { data: r.data } : {}) }),
        ),
      );
    } finally {
      raw.close();
    }
  }

  it("retry InvokeActor calls and refuse them with an open breaker, as over HTTP", async () => {
    const ok = await invokeActor("Flaky", "g1", "flaky2");
    expect(ok.error).toBeNull();
    expect(ok.data?.toString("utf8")).toBe("ok");
    expect(count("Flaky/g1/flaky2")).toBe(3);
    for (let i = 0; i < 3; i++)
      expect((await invokeActor("PerId", "g1", "fail")).error).not.toBeNull();
    const refused = await invokeActor("PerId", "g1", "ok");
    expect(refused.error?.code).toBe(grpc.status.INTERNAL);
    expect(refused.error?.details).toMatch(/circuit breaker .* is open/);
    expect(count("PerId/g1/ok")).toBe(0);
  });
});

describe("actor policy activations", () => {
  /** The sum of `dapr_resiliency_activations_total` over the series carrying `labels`. */
  async function activations(labels: Record<string, string>): Promise<number> {
    const res = await fetch(`http://127.0.0.1:${proc.info.metricsPort}/metrics`);
    let total = 0;
    for (const line of (await res.text()).split("\n")) {
      if (!line.startsWith("dapr_resiliency_activations_total{")) continue;
      if (Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`)))
        total += Number(line.slice(line.lastIndexOf(" ") + 1));
    }
    return total;
  }

  const of = (target: string, policy: string, extra: Record<string, string> = {}) => ({
    app_id: "actors-resiliency",
    name: "actor-policies",
    flow_direction: "outbound",
    target,
    policy,
    ...extra,
  });

  it("count each retry, each timeout that fired and each breaker change, as daprd names them", async () => {
    const retries = await activations(of("actor_Picky", "retry"));
    expect((await call("Picky/m1", "unavailable")).status).toBe(503);
    expect((await activations(of("actor_Picky", "retry"))) - retries).toBe(3);

    const timeouts = await activations(of("actor_Slow", "timeout"));
    expect((await call("Slow/m1", "slow")).status).toBe(500);
    expect((await activations(of("actor_Slow", "timeout"))) - timeouts).toBe(1);

    const opened = await activations(of("actor_PerId", "circuitbreaker", { status: "open" }));
    for (let i = 0; i < 3; i++) expect((await call("PerId/m1", "fail")).status).toBe(500);
    expect((await call("PerId/m1", "ok")).status).toBe(500);
    expect(
      (await activations(of("actor_PerId", "circuitbreaker", { status: "open" }))) - opened,
    ).toBe(1);
  });
});

describe("compiled actor policies", () => {
  const load = (yaml: string) =>
    ResiliencyPolicies.load(parseResources(yaml, "r.yaml").resiliencies, "app", silentLogger);

  it("keep at most circuitBreakerCacheSize per-id breakers, dropping the least recently used", async () => {
    const policies = await load(
      RESILIENCY.replace(
        "circuitBreakerScope: id",
        "circuitBreakerScope: id\n        circuitBreakerCacheSize: 2",
      ),
    );
    const policy = policies.actor("PerId");
    const fail = () => Promise.reject(new Error("down"));
    const a = policy?.breaker("a");
    for (let i = 0; i < 3; i++) await expect(a?.execute(fail, () => true)).rejects.toThrow("down");
    await expect(
      a?.execute(
        async () => "up",
        () => true,
      ),
    ).rejects.toThrow(/is open/);
    // Still cached: the same open breaker.
    expect(policy?.breaker("a")).toBe(a);
    policy?.breaker("b");
    policy?.breaker("c");
    // a fell out: it comes back closed.
    const again = policy?.breaker("a");
    expect(again).not.toBe(a);
    await expect(
      again?.execute(
        async () => "up",
        () => true,
      ),
    ).resolves.toBe("up");
  });

  it("refuse an actor circuit breaker without circuitBreakerScope, as daprd does", async () => {
    await expect(
      load(RESILIENCY.replace("\n        circuitBreakerScope: type", "")),
    ).rejects.toThrow(
      /targets\.actors\.PerType names circuitBreaker cb without circuitBreakerScope/,
    );
  });

  it("fall back to DefaultActor*Policy for a type without a target", async () => {
    const policies = await load(
      RESILIENCY.replace("    timeouts:\n", "    timeouts:\n      DefaultActorTimeoutPolicy: 7s\n"),
    );
    expect(policies.actor("Untargeted")?.timeoutMs).toBe(7000);
    // A type with a target of its own uses only what it names, as daprd.
    expect(policies.actor("Flaky")?.timeoutMs).toBeUndefined();
  });
});
