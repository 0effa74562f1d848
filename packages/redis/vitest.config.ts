import { mergeConfig } from "vitest/config";
import { sharedConfig } from "../../conformance/vitest.shared.ts";

export default mergeConfig(sharedConfig, { test: { globalSetup: ["test/global-setup.ts"] } });
