import { describe, expect, it } from "vitest";
import type { AppRequest } from "./app.ts";
import type { SidecarPubSubConfig } from "./config.ts";
import type { SidecarSuiteContext } from "./context.ts";
import { call, errorCode } from "./http.ts";

const PUBSUB = "pubsub";

/** Topic names and app routes of one run. */
export function pubsubTopics(runId: string) {
  const t = (name: string): string => `sc-${runId}-${name}`;
  return {
    basic: t("basic"),
    routed: t("routed"),
    raw: t("raw"),
    bulk: t("bulk"),
    dead: t("dead"),
    retry: t("retry"),
    deadLetter: t("dead-letter"),
  };
}

/** The app's programmatic subscriptions (`GET /dapr/subscribe`) for one run. */
export function pubsubSubscriptions(runId: string): unknown[] {
  const t = pubsubTopics(runId);
  return [
    { pubsubname: PUBSUB, topic: t.basic, route: "/ps/basic" },
    {
      pubsubname: PUBSUB,
      topic: t.routed,
      routes: {
        rules: [{ match: 'event.type == "special"', path: "/ps/special" }],
        default: "/ps/routed-default",
      },
    },
    { pubsubname: PUBSUB, topic: t.raw, route: "/ps/raw", metadata: { rawPayload: "true" } },
    {
      pubsubname: PUBSUB,
      topic: t.bulk,
      route: "/ps/bulk",
      bulkSubscribe: { enabled: true, maxMessagesCount: 10, maxAwaitDurationMs: 200 },
    },
    { pubsubname: PUBSUB, topic: t.dead, route: "/ps/drop", deadLetterTopic: t.deadLetter },
    { pubsubname: PUBSUB, topic: t.retry, route: "/ps/retry" },
    { pubsubname: PUBSUB, topic: t.deadLetter, route: "/ps/dead-letter" },
  ];
}

/**
 * The app's answer to the routes above: `/ps/drop` drops, `/ps/retry` asks for a retry the first
 * time it sees an event, `/ps/bulk` acknowledges every entry.
 */
export function pubsubReply(): (r: AppRequest) => { status: number; body?: unknown } | undefined {
  const retried = new Set<string>();
  return (r) => {
    if (r.path === "/ps/drop") return { status: 200, body: { status: "DROP" } };
    if (r.path === "/ps/retry") {
      const id = dataOf(r)?.id ?? "";
      if (retried.has(id)) return undefined;
      retried.add(id);
      return { status: 200, body: { status: "RETRY" } };
    }
    if (r.path === "/ps/bulk") {
      const entries = (r.json as { entries?: { entryId: string }[] } | undefined)?.entries ?? [];
      return {
        status: 200,
        body: { statuses: entries.map((e) => ({ entryId: e.entryId, status: "SUCCESS" })) },
      };
    }
    return undefined;
  };
}

function dataOf(r: AppRequest): { id?: string } | undefined {
  return (r.json as { data?: { id?: string } } | undefined)?.data;
}

/**
 * Publish → subscribe round trips through the sidecar and the real broker to the test app:
 * a CloudEvent to its route, routing rules, raw payloads, bulk publish to a bulk subscriber, and
 * an event the app drops going to the dead-letter topic.
 */
export function describeSidecarPubSub(ctx: SidecarSuiteContext, config: SidecarPubSubConfig): void {
  const t = pubsubTopics(ctx.runId);
  const timeout = config.deliveryTimeoutMs ?? 20_000;
  const publish = (topic: string, body: unknown, query = "", headers?: Record<string, string>) =>
    call(ctx.url(), "POST", `/v1.0/publish/${PUBSUB}/${topic}${query}`, body, headers);

  describe("pub/sub", { concurrent: true }, () => {
    it("a published JSON event reaches the subscribed route as a CloudEvent", async () => {
      const id = `${ctx.runId}-basic`;
      expect((await publish(t.basic, { id, text: "hello" })).status).toBe(204);
      const [got] = await ctx.app.waitFor(
        (r) => r.path === "/ps/basic" && dataOf(r)?.id === id,
        timeout,
      );
      const event = got?.json as Record<string, unknown>;
      expect(event.data).toEqual({ id, text: "hello" });
      expect(event.topic).toBe(t.basic);
      expect(event.pubsubname).toBe(PUBSUB);
      expect(event.specversion).toBe("1.0");
      expect(event.datacontenttype).toBe("application/json");
      expect(String(got?.headers["content-type"])).toContain("application/cloudevents+json");
    });

    it("routing rules: a matching event type takes its rule, others the default route", async () => {
      const special = `${ctx.runId}-special`;
      const plain = `${ctx.runId}-plain`;
      expect(
        (await publish(t.routed, { id: special }, "?metadata.cloudevent.type=special")).status,
      ).toBe(204);
      expect((await publish(t.routed, { id: plain })).status).toBe(204);
      await ctx.app.waitFor((r) => r.path === "/ps/special" && dataOf(r)?.id === special, timeout);
      await ctx.app.waitFor(
        (r) => r.path === "/ps/routed-default" && dataOf(r)?.id === plain,
        timeout,
      );
      expect(
        ctx.app.received.some((r) => r.path === "/ps/special" && dataOf(r)?.id === plain),
      ).toBe(false);
    });

    // As daprd: a raw message reaches a rawPayload subscription wrapped in a CloudEvent whose
    // data_base64 holds the published bytes verbatim.
    it("rawPayload: the published bytes arrive verbatim in data_base64", async () => {
      const body = JSON.stringify({ raw: `${ctx.runId}-raw` });
      expect((await publish(t.raw, body, "?metadata.rawPayload=true")).status).toBe(204);
      const [got] = await ctx.app.waitFor(
        (r) =>
          r.path === "/ps/raw" &&
          Buffer.from(
            String((r.json as { data_base64?: string } | undefined)?.data_base64 ?? ""),
            "base64",
          )
            .toString("utf8")
            .includes(`${ctx.runId}-raw`),
        timeout,
      );
      const event = got?.json as { data_base64: string; topic: string };
      expect(Buffer.from(event.data_base64, "base64").toString("utf8")).toBe(body);
      expect(event.topic).toBe(t.raw);
    });

    it("bulk publish: every entry reaches the bulk subscriber", async () => {
      const ids = [0, 1, 2, 3].map((i) => `${ctx.runId}-bulk-${i}`);
      const got = await call(
        ctx.url(),
        "POST",
        `/v1.0-alpha1/publish/bulk/${PUBSUB}/${t.bulk}`,
        ids.map((id, i) => ({
          entryId: String(i),
          event: { id },
          contentType: "application/json",
        })),
      );
      // daprd: 204 when every entry was published.
      expect(got.status).toBe(204);
      const seen = new Set<string>();
      await ctx.app.waitFor((r) => {
        if (r.path !== "/ps/bulk") return false;
        const entries = (r.json as { entries?: { event?: { data?: { id?: string } } }[] }).entries;
        for (const e of entries ?? []) if (e.event?.data?.id) seen.add(e.event.data.id);
        return ids.every((id) => seen.has(id));
      }, timeout);
      expect(ids.every((id) => seen.has(id))).toBe(true);
    });

    it("dead letter: an event the app drops is delivered to the dead-letter topic", async () => {
      const id = `${ctx.runId}-dead`;
      expect((await publish(t.dead, { id })).status).toBe(204);
      await ctx.app.waitFor((r) => r.path === "/ps/drop" && dataOf(r)?.id === id, timeout);
      const [got] = await ctx.app.waitFor(
        (r) => r.path === "/ps/dead-letter" && dataOf(r)?.id === id,
        timeout,
      );
      expect(dataOf(got as AppRequest)).toEqual({ id });
    });

    it("retry: an event the app answers RETRY is delivered again", async () => {
      const id = `${ctx.runId}-retry`;
      expect((await publish(t.retry, { id })).status).toBe(204);
      const hits = await ctx.app.waitFor(
        (r) => r.path === "/ps/retry" && dataOf(r)?.id === id,
        timeout,
        2,
      );
      expect(hits.length).toBeGreaterThanOrEqual(2);
    });

    it("publishing to a pubsub that is not configured is 404 ERR_PUBSUB_NOT_FOUND", async () => {
      const got = await call(ctx.url(), "POST", `/v1.0/publish/nosuchpubsub/${t.basic}`, {});
      expect(got.status).toBe(404);
      expect(errorCode(got)).toBe("ERR_PUBSUB_NOT_FOUND");
    });
  });
}
