import { mergeConfig } from "vitest/config";
import { sharedConfig } from "../tools/src/vitest-preset.ts";

// Every test file starts its own Kafka broker (a JVM); on small CI machines several at once starve
// each other into coordinator and leader-election timeouts, so the files run one after another.
export default mergeConfig(sharedConfig, { test: { fileParallelism: false } });
