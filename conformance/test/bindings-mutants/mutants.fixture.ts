import { describeBindingConformance } from "../../src/bindings/index.ts";
import { LoopbackBinding, type LoopbackFlaws } from "../bindings-loopback.ts";

export const FLAWS: Record<string, LoopbackFlaws> = {
  "drops-failed-event": { dropFailed: true },
  "corrupt-get": { corruptGet: true },
  "reads-after-close": { readAfterClose: true },
  "accepts-unknown-operation": { acceptUnknown: true },
  "ignores-abort": { ignoreAbort: true },
  "delete-is-a-no-op": { deleteNoop: true },
};

for (const [name, flaws] of Object.entries(FLAWS)) {
  describeBindingConformance({
    name: `mutant ${name}`,
    createOutput: async (ctx) => new LoopbackBinding(ctx.unique(), flaws),
    createInput: async (ctx) => new LoopbackBinding(ctx.unique(), flaws),
    operations: ["operations", "read", "create", "get", "list", "delete"],
    outputMetadata: (ctx) => ({ key: ctx.unique("key") }),
    readWaitMs: 50,
    quietPeriodMs: 200,
    readTimeoutMs: 1_500,
  });
}
