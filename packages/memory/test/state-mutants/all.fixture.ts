import { describeStateStoreConformance } from "@outrig/conformance";
import { stateMutants } from "./mutants.ts";

for (const [name, mutant] of Object.entries(stateMutants)) {
  describeStateStoreConformance({ name: `mutant ${name}`, create: async () => mutant.create() });
}
