import { sharedConfig } from "../packages/tools/src/vitest-preset.ts";

export default sharedConfig;
