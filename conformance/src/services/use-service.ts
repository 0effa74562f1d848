import { afterAll, beforeAll } from "vitest";
import type { ServiceHandle } from "./types.ts";

/**
 * Starts a service once for the calling test file (in `beforeAll`) and removes it in `afterAll`.
 * Returns a getter, since the handle exists only once the hook has run:
 *
 *   const redis = useService(startRedis);
 *   it("answers", async () => { const client = connect(redis().url); ... });
 */
export function useService<T extends ServiceHandle>(start: () => Promise<T>): () => T {
  let handle: T | undefined;
  beforeAll(async () => {
    handle = await start();
  });
  afterAll(async () => {
    await handle?.stop();
  });
  return () => {
    if (!handle)
      throw new Error("useService: the service is not started yet (use it inside a test or hook)");
    return handle;
  };
}
