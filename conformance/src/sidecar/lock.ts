import { describe, expect, it } from "vitest";
import type { SidecarSuiteContext } from "./context.ts";
import { call, errorCode, sleep } from "./http.ts";

const STORE = "lockstore";

/**
 * The distributed lock through the sidecar's HTTP API (`/v1.0-alpha1/lock|unlock/lockstore`):
 * Dapr's request and response shapes, the unlock statuses, and daprd's error codes for bad input.
 */
export function describeSidecarLock(ctx: SidecarSuiteContext): void {
  const resource = (name: string): string => `sc-${ctx.runId}-${name}`;
  const lock = (body: unknown, store = STORE) =>
    call(ctx.url(), "POST", `/v1.0-alpha1/lock/${store}`, body);
  const unlock = (body: unknown, store = STORE) =>
    call(ctx.url(), "POST", `/v1.0-alpha1/unlock/${store}`, body);

  describe("lock", { concurrent: true }, () => {
    it("lock → {success: true}; a second owner → {success: false}; unlock statuses 2, 0, 1", async () => {
      const resourceId = resource("basic");
      const first = await lock({ resourceId, lockOwner: "a", expiryInSeconds: 60 });
      expect([first.status, first.json]).toEqual([200, { success: true }]);
      const second = await lock({ resourceId, lockOwner: "b", expiryInSeconds: 60 });
      expect([second.status, second.json]).toEqual([200, { success: false }]);
      expect((await unlock({ resourceId, lockOwner: "b" })).json).toEqual({ status: 2 });
      expect((await unlock({ resourceId, lockOwner: "a" })).json).toEqual({ status: 0 });
      expect((await unlock({ resourceId, lockOwner: "a" })).json).toEqual({ status: 1 });
    });

    it("of 100 concurrent lock requests for one resource, exactly one succeeds", async () => {
      const resourceId = resource("race");
      const replies = await Promise.all(
        Array.from({ length: 100 }, (_, i) =>
          lock({ resourceId, lockOwner: `o${i}`, expiryInSeconds: 60 }),
        ),
      );
      expect(replies.map((r) => r.status).filter((s) => s !== 200)).toEqual([]);
      const winners = replies.flatMap((r, i) =>
        (r.json as { success: boolean }).success ? [`o${i}`] : [],
      );
      expect(winners).toHaveLength(1);
      expect((await unlock({ resourceId, lockOwner: winners[0] })).json).toEqual({ status: 0 });
    });

    it("a lock expires after expiryInSeconds", async () => {
      const resourceId = resource("expiry");
      expect((await lock({ resourceId, lockOwner: "a", expiryInSeconds: 1 })).json).toEqual({
        success: true,
      });
      await sleep(2200);
      expect((await lock({ resourceId, lockOwner: "b", expiryInSeconds: 60 })).json).toEqual({
        success: true,
      });
      expect((await unlock({ resourceId, lockOwner: "a" })).json).toEqual({ status: 2 });
    });

    it("bad input answers daprd's error codes and takes no lock", async () => {
      const resourceId = resource("bad");
      const cases: [unknown, number, string][] = [
        [{ resourceId, lockOwner: "a", expiryInSeconds: 0 }, 400, "ERR_EXPIRY_NOT_POSITIVE"],
        [{ resourceId, lockOwner: "a", expiryInSeconds: -5 }, 400, "ERR_EXPIRY_NOT_POSITIVE"],
        [{ resourceId, lockOwner: "a" }, 400, "ERR_EXPIRY_NOT_POSITIVE"],
        [{ lockOwner: "a", expiryInSeconds: 10 }, 400, "ERR_RESOURCE_ID_EMPTY"],
        [{ resourceId, lockOwner: "", expiryInSeconds: 10 }, 400, "ERR_LOCK_OWNER_EMPTY"],
        [{ resourceId, lockOwner: "a", expiryInSeconds: "10" }, 400, "ERR_MALFORMED_REQUEST"],
        [{ resourceId, lockOwner: "a", expiryInSeconds: 1.5 }, 400, "ERR_MALFORMED_REQUEST"],
        [{ resourceId: 7, lockOwner: "a", expiryInSeconds: 10 }, 400, "ERR_MALFORMED_REQUEST"],
        ["{not json", 400, "ERR_MALFORMED_REQUEST"],
        ["[1]", 400, "ERR_MALFORMED_REQUEST"],
        [{ resourceId: "a||b", lockOwner: "a", expiryInSeconds: 10 }, 500, "ERR_TRY_LOCK"],
      ];
      for (const [body, status, code] of cases) {
        const reply = await lock(body);
        expect([reply.status, errorCode(reply)], `lock ${JSON.stringify(body)}`).toEqual([
          status,
          code,
        ]);
      }
      const missing = await lock({ resourceId, lockOwner: "a", expiryInSeconds: 10 }, "nostore");
      expect([missing.status, errorCode(missing)]).toEqual([400, "ERR_LOCK_STORE_NOT_FOUND"]);
      expect((missing.json as { message: string }).message).toBe("lock store nostore is not found");
      const badUnlock = await unlock({ resourceId, lockOwner: "" });
      expect([badUnlock.status, errorCode(badUnlock)]).toEqual([400, "ERR_LOCK_OWNER_EMPTY"]);
      const illegal = await unlock({ resourceId: "x||y", lockOwner: "a" });
      expect([illegal.status, errorCode(illegal)]).toEqual([500, "ERR_UNLOCK"]);
      // Nothing was taken by the refused requests.
      expect((await lock({ resourceId, lockOwner: "b", expiryInSeconds: 10 })).json).toEqual({
        success: true,
      });
      expect((await unlock({ resourceId, lockOwner: "b" })).json).toEqual({ status: 0 });
    });
  });
}
