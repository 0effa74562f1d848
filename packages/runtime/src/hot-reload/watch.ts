import { type FSWatcher, watch } from "node:fs";
import { stat } from "node:fs/promises";
import { basename, dirname, extname } from "node:path";
import type { Logger } from "@outrig/core";

/** Stops the watchers. */
export type Unwatch = () => void;

const RESOURCE_FILE = new Set([".yaml", ".yml"]);

/**
 * Calls `onChange` once the resources paths have been quiet for `debounceMs` after a change.
 * A directory is watched itself (not recursively: resources are read from its top level, as
 * daprd does) for its `.yaml`/`.yml` files; a file, or a path that does not exist yet, through its
 * parent directory, so an editor that saves by writing a new file and renaming it is seen too.
 */
export async function watchResourcesPaths(
  paths: readonly string[],
  onChange: () => void,
  options: { debounceMs: number; logger: Logger },
): Promise<Unwatch> {
  const watchers: FSWatcher[] = [];
  let timer: NodeJS.Timeout | undefined;
  const changed = (): void => {
    clearTimeout(timer);
    timer = setTimeout(onChange, options.debounceMs);
  };
  for (const path of paths) {
    const isDir = await stat(path).then(
      (s) => s.isDirectory(),
      () => false,
    );
    const dir = isDir ? path : dirname(path);
    const only = isDir ? undefined : basename(path);
    try {
      const watcher = watch(dir, { persistent: false }, (_event, name) => {
        // Without a name (some platforms) the change may be anything: read again.
        if (name === null) return changed();
        if (only ? name === only : RESOURCE_FILE.has(extname(name))) changed();
      });
      watcher.on("error", (error) => {
        options.logger.warn("hot reload: stopped watching a resources path", {
          path,
          error: error.message,
        });
        watcher.close();
      });
      watchers.push(watcher);
    } catch (error) {
      options.logger.warn("hot reload: resources path not watched", {
        path,
        error: (error as Error).message,
      });
    }
  }
  return () => {
    clearTimeout(timer);
    for (const w of watchers) w.close();
  };
}
