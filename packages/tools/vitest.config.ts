import { sharedConfig } from "./src/vitest-preset.ts";

export default sharedConfig;
