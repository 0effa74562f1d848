export { CronBinding, createCronBinding, cronBindingDefinition } from "./binding.ts";
export { manifest } from "./manifest.ts";
export type { CronBindingOptions } from "./options.ts";
export { cronBindingOptions } from "./options.ts";
export type { Schedule } from "./schedule.ts";
export { parseSchedule } from "./schedule.ts";
