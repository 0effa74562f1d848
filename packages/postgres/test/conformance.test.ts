import { randomUUID } from "node:crypto";
import { describeStateStoreConformance } from "@outrig/conformance";
import { startPostgres } from "@outrig/conformance/services";
import pg from "pg";
import { afterAll } from "vitest";
import { createPostgresStateStore, createPostgresV2StateStore } from "../src/index.ts";

// The suites create their component while they are collected, so the service starts first.
const postgres = await startPostgres();
const run = randomUUID().replaceAll("-", "").slice(0, 12);
const customTable = `public.outrig_custom_${run}`;
const customMetadata = `outrig_custom_meta_${run}`;
const v2Prefix = `confv2_${run}_`;

afterAll(async () => {
  const client = new pg.Client({ connectionString: postgres.connectionString });
  try {
    await client.connect();
    await client.query(`DROP TABLE IF EXISTS ${customTable}, ${customMetadata}, ${v2Prefix}state`);
  } finally {
    await client.end();
    await postgres.stop();
  }
});

describeStateStoreConformance({
  name: "postgresql",
  create: () => createPostgresStateStore({ connectionString: postgres.connectionString }),
  badEtag: "1",
});

// A schema-qualified custom table and metadata table, with Dapr's key=value connection string.
describeStateStoreConformance({
  name: "postgresql-custom-table",
  create: () =>
    createPostgresStateStore({
      connectionString: `host=${postgres.host} port=${postgres.port} user=${postgres.user} password=${postgres.password} dbname=${postgres.database}`,
      tableName: customTable,
      metadataTableName: customMetadata,
      cleanupInterval: "5",
    }),
  badEtag: "1",
});

// Dapr's v2 layout (`version: v2` in the YAML): bytea values, UUID ETags, no query API; the kind
// of a value is not recorded, as in Dapr.
describeStateStoreConformance({
  name: "postgresql-v2",
  create: () =>
    createPostgresV2StateStore({
      connectionString: postgres.connectionString,
      tablePrefix: v2Prefix,
    }),
  badEtag: "3c2b1a00-0000-4000-8000-000000000000",
  options: { valueKind: false },
});
