import { describeBindingConformance } from "@outrig/conformance";
import { startPostgres } from "@outrig/conformance/services";
import { afterAll } from "vitest";
import {
  createPostgresBinding,
  openPostgresBinding,
  postgresBindingDefinition,
} from "../src/binding.ts";

const postgres = await startPostgres();
afterAll(async () => {
  await postgres.stop();
});

// Dapr's tests.yml: exec, query, close and operations, with only the list checked; the standard
// operations are undeclared, so the suite checks that they reject.
describeBindingConformance({
  name: "postgresql",
  definition: postgresBindingDefinition,
  createOutput: () => createPostgresBinding({ connectionString: postgres.connectionString }),
  operations: ["operations", "exec", "query", "close"],
  quietPeriodMs: 200,
});

// The legacy `url` alias, as older Dapr YAML writes it (the YAML path: library mode takes only
// the canonical names).
describeBindingConformance({
  name: "postgresql-url-alias",
  createOutput: () => openPostgresBinding({ url: postgres.connectionString }),
  operations: ["operations", "exec", "query", "close"],
  quietPeriodMs: 200,
});
