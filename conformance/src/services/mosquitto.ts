import { pingMqtt } from "./probes.ts";
import { hostAndPort, startContainer, useExternal } from "./service.ts";
import type { MosquittoService, StartServiceOptions } from "./types.ts";

const OVERRIDE = "OUTRIG_TEST_MQTT_URL";

/**
 * Eclipse Mosquitto 2 in a container (anonymous MQTT 3.1.1/5 on one listener), or the broker
 * `OUTRIG_TEST_MQTT_URL` names (`mqtt://host:port`).
 */
export async function startMosquitto(options: StartServiceOptions = {}): Promise<MosquittoService> {
  const override = options.container ? undefined : process.env[OVERRIDE];
  if (override) {
    const { host, port } = hostAndPort(override, 1883);
    const base = await useExternal(
      "mosquitto",
      OVERRIDE,
      host,
      port,
      pingMqtt,
      options.readyTimeoutMs,
    );
    return { ...base, name: "mosquitto", url: override };
  }
  const base = await startContainer(
    {
      name: "mosquitto",
      containerPort: 1883,
      // Mosquitto 2 listens on loopback only unless configured; the official image ships this file
      // for anonymous access on 1883, and the local image does too.
      command: ["mosquitto", "-c", "/mosquitto-no-auth.conf"],
      probe: pingMqtt,
    },
    options,
  );
  return { ...base, name: "mosquitto", url: `mqtt://${base.host}:${base.port}` };
}
