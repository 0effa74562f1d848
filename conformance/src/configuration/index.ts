export type {
  BurstDelivery,
  ConfigurationConformanceConfig,
  ConfigurationSuiteContext,
} from "./config.ts";
export {
  CONFIGURATION_CASES,
  createConfigurationContext,
  describeConfigurationGet,
  describeConfigurationReconnect,
  describeConfigurationStoreConformance,
  describeConfigurationSubscribe,
} from "./suite.ts";
