// The three-sidecar actor failover of actors-failover.test.ts with the membership table and the
// reminders in a real PostgreSQL (through @outrig/conformance/services).
import { randomUUID } from "node:crypto";
import { startPostgres } from "@outrig/conformance/services";
import { afterAll, describe, it } from "vitest";
import { failover } from "./actors-failover.ts";

const postgres = await startPostgres();
afterAll(async () => {
  await postgres.stop();
});

describe("three sidecars on one PostgreSQL store", () => {
  it("route each actor to one owner, move a killed owner's calls and reminder to a survivor, and take a joining one in", async () => {
    // A namespace of its own: membership and reminders of other runs sharing the database stay apart.
    await failover(postgres.connectionString, `failover-${randomUUID().slice(0, 8)}`);
  }, 120_000);
});
