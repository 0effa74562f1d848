import { pingRedis } from "./probes.ts";
import { hostAndPort, startContainer, useExternal } from "./service.ts";
import type { RedisService, StartServiceOptions } from "./types.ts";

const OVERRIDE = "OUTRIG_TEST_REDIS_URL";

/** Redis 7 in a container, or the one `OUTRIG_TEST_REDIS_URL` names (`redis://host:port`). */
export async function startRedis(options: StartServiceOptions = {}): Promise<RedisService> {
  const override = options.container ? undefined : process.env[OVERRIDE];
  if (override) {
    const { host, port } = hostAndPort(override, 6379);
    const base = await useExternal(
      "redis",
      OVERRIDE,
      host,
      port,
      pingRedis,
      options.readyTimeoutMs,
    );
    return { ...base, name: "redis", url: override };
  }
  const base = await startContainer(
    { name: "redis", containerPort: 6379, probe: pingRedis },
    options,
  );
  return { ...base, name: "redis", url: `redis://${base.host}:${base.port}` };
}
