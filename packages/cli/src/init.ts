import { mkdir, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import {
  defaultConfigurationYaml,
  memoryPubSubYaml,
  sqliteStateStoreYaml,
} from "./default-resources.ts";
import type { OutrigPaths } from "./paths.ts";

export type InitFileStatus = "created" | "exists" | "rewritten";

export interface InitResult {
  files: { path: string; status: InitFileStatus }[];
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

/**
 * Writes the default components and configuration. Idempotent: an existing file is left alone
 * (the user may have edited it) unless `force` is set.
 */
export async function initOutrig(paths: OutrigPaths, force = false): Promise<InitResult> {
  await mkdir(paths.components, { recursive: true });
  await mkdir(paths.apps, { recursive: true });
  const wanted: [string, string][] = [
    [join(paths.components, "statestore.yaml"), sqliteStateStoreYaml(paths.stateDatabase)],
    [join(paths.components, "pubsub.yaml"), memoryPubSubYaml],
    [paths.config, defaultConfigurationYaml],
  ];
  const files: InitResult["files"] = [];
  for (const [path, content] of wanted) {
    const present = await exists(path);
    if (present && !force) {
      files.push({ path, status: "exists" });
      continue;
    }
    await writeFile(path, content, "utf8");
    files.push({ path, status: present ? "rewritten" : "created" });
  }
  return { files };
}
