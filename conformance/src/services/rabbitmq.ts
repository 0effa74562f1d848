import { pingAmqp } from "./probes.ts";
import { hostAndPort, startContainer, useExternal } from "./service.ts";
import type { RabbitMQService, StartServiceOptions } from "./types.ts";

const OVERRIDE = "OUTRIG_TEST_RABBITMQ_URL";

/**
 * RabbitMQ 3 in a container (AMQP 0-9-1, `guest`/`guest`, vhost `/`), or the broker
 * `OUTRIG_TEST_RABBITMQ_URL` names (`amqp://user:password@host:port`).
 */
export async function startRabbitMQ(options: StartServiceOptions = {}): Promise<RabbitMQService> {
  const override = options.container ? undefined : process.env[OVERRIDE];
  if (override) {
    const url = new URL(override);
    const { host, port } = hostAndPort(override, 5672);
    const user = decodeURIComponent(url.username) || "guest";
    const password = decodeURIComponent(url.password) || "guest";
    const base = await useExternal(
      "rabbitmq",
      OVERRIDE,
      host,
      port,
      (h, p) => pingAmqp(h, p, user, password),
      options.readyTimeoutMs,
    );
    return { ...base, name: "rabbitmq", url: override, user, password };
  }
  const base = await startContainer(
    {
      name: "rabbitmq",
      containerPort: 5672,
      probe: (host, port) => pingAmqp(host, port, "guest", "guest"),
    },
    options,
  );
  return {
    ...base,
    name: "rabbitmq",
    url: `amqp://guest:guest@${base.host}:${base.port}`,
    user: "guest",
    password: "guest",
  };
}
