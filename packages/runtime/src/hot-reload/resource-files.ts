import { ConfigError, type ConfigIssue } from "@outrig/core";
import type { Resources } from "../resources/model.ts";
import {
  listResourceFiles,
  mergeResources,
  parseResources,
  readResourceFile,
} from "../resources/parse.ts";

/** The resources as the files say now, and the files that could not be read. */
export interface ResourcesRead {
  resources: Resources;
  /** Each broken file's problems (file, document, field, line), its last good resources kept. */
  broken: { file: string; issues: readonly ConfigIssue[] }[];
}

/**
 * Reads the resources paths file by file, keeping each file's last good resources when an edit
 * breaks it: the components of a half-saved or mistyped file stay as they were, not removed.
 */
export class ResourceFiles {
  readonly #paths: readonly string[];
  readonly #inline: Resources | undefined;
  readonly #good = new Map<string, Resources>();

  constructor(paths: readonly string[], inline: string | undefined) {
    this.#paths = paths;
    this.#inline = inline ? parseResources(inline, "<resources>") : undefined;
  }

  async read(): Promise<ResourcesRead> {
    // A resources path that is missing now holds no resources (it was warned about at start).
    const files = await listResourceFiles(this.#paths, { onMissing: () => undefined });
    const parts: Resources[] = [];
    const broken: ResourcesRead["broken"] = [];
    for (const file of files) {
      try {
        const resources = await readResourceFile(file);
        this.#good.set(file, resources);
        parts.push(resources);
      } catch (error) {
        // Deleted between the listing and the read: it is gone, like a file not listed.
        if ((error as { code?: string }).code === "ENOENT") continue;
        const issues =
          error instanceof ConfigError
            ? error.issues
            : [{ field: file, message: (error as Error).message }];
        broken.push({ file, issues });
        const last = this.#good.get(file);
        if (last) parts.push(last);
      }
    }
    for (const file of this.#good.keys()) if (!files.includes(file)) this.#good.delete(file);
    if (this.#inline) parts.push(this.#inline);
    return { resources: mergeResources(...parts), broken };
  }
}
