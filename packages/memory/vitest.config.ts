import { sharedConfig } from "../tools/src/vitest-preset.ts";

export default sharedConfig;
