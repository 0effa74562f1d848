import { describeConfigurationStoreConformance } from "@outrig/conformance";
import { configurationMutants, Restartable } from "./mutants.ts";

/** The correct store behind a restartable server, so the harness itself is checked too. */
const variants = {
  ...configurationMutants,
  correct: { create: () => new Restartable(), mustFail: [] },
};

for (const [name, variant] of Object.entries(variants)) {
  let store: Restartable | undefined;
  describeConfigurationStoreConformance({
    name: `mutant ${name}`,
    create: async () => {
      store = variant.create();
      return store;
    },
    write: (key, value, version) => (store as Restartable).write(key, value, version),
    remove: (key) => (store as Restartable).remove(key),
    restartServer: () => (store as Restartable).restart(),
    burst: "every",
    // The store is in-process: a change that is not there at once is not coming.
    deliveryTimeoutMs: 400,
    quietPeriodMs: 100,
    reconnectTimeoutMs: 1_000,
  });
}
