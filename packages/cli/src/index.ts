export { createProgram, main } from "./cli.ts";
export {
  defaultConfigurationYaml,
  embeddedDefaultResources,
  memoryPubSubYaml,
  sqliteStateStoreYaml,
} from "./default-resources.ts";
export { CliError } from "./errors.ts";
export type { InitFileStatus, InitResult } from "./init.ts";
export { initOutrig } from "./init.ts";
export type { ListEntry } from "./list.ts";
export type { OutrigPaths } from "./paths.ts";
export { outrigHome, outrigPaths } from "./paths.ts";
export type { AppRecord } from "./registry.ts";
export { AppRegistry, isAlive } from "./registry.ts";
export type { AppRunConfig, ResourceSelection } from "./run-config.ts";
export type { RunFile } from "./run-file.ts";
export { loadRunFile, RUN_FILE_NAMES } from "./run-file.ts";
