export type {
  BindingConformanceConfig,
  BindingSuiteContext,
  InputFailureGuarantee,
} from "./config.ts";
export { eventPayload, parseEventPayload } from "./payload.ts";
export { BINDING_CASES, describeBindingConformance } from "./suite.ts";
