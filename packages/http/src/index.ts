export type { HttpOperation } from "./binding.ts";
export {
  createHttpBinding,
  HTTP_OPERATIONS,
  HttpBinding,
  httpBindingDefinition,
} from "./binding.ts";
export { manifest } from "./manifest.ts";
export type { HttpBindingOptions } from "./options.ts";
export { httpBindingOptions } from "./options.ts";
