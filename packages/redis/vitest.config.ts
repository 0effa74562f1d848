import { mergeConfig } from "vitest/config";
import { sharedConfig } from "../tools/src/vitest-preset.ts";

export default mergeConfig(sharedConfig, { test: { globalSetup: ["test/global-setup.ts"] } });
