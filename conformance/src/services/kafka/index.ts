import { defineTestService } from "../definition.ts";
import { hostAndPort, startContainer, useExternal } from "../service.ts";
import type { TestCertificates } from "../tls.ts";
import type { ServiceHandle, StartServiceOptions } from "../types.ts";
import image from "./image/image.json" with { type: "json" };
import { pingKafka } from "./probe.ts";

export type { KafkaBroker } from "./probe.ts";

/** The kafka test service: its image (./image/image.json) and the variable that names a running one. */
export const kafkaDefinition = defineTestService({
  name: "kafka",
  image,
  override: {
    variable: "OUTRIG_TEST_KAFKA_BROKERS",
    value: (service) => `${service.host}:${service.port}`,
  },
});

const OVERRIDE = kafkaDefinition.override.variable;

export interface KafkaService extends ServiceHandle {
  readonly name: "kafka";
  /** `host:port` entries for a client's bootstrap list (PLAINTEXT). */
  readonly brokers: string[];
  /** With `tls`: the SSL listener (a client certificate is required). */
  readonly sslBrokers?: string[];
  /** With `tls`: the SASL_SSL listener (PLAIN, SCRAM-SHA-256, SCRAM-SHA-512). */
  readonly saslBrokers?: string[];
}

export interface KafkaStartOptions extends StartServiceOptions {
  /** Adds the SSL and SASL_SSL listeners with these certificates. */
  tls?: TestCertificates;
  /** SASL users (name to password), for PLAIN and both SCRAM mechanisms. */
  users?: Record<string, string>;
}

/**
 * The environment of a single-node KRaft broker (broker and controller in one process), in the
 * convention of the official apache/kafka image (`KAFKA_FOO_BAR` is `foo.bar`), which the local
 * image follows too. The broker listens on 9092 in the container and advertises the host port
 * the container is published on (chosen before it starts), so the address in Metadata answers
 * is the one clients reach, before and after a restart.
 */
export function kafkaEnvironment(hostPort: number, host = "127.0.0.1"): Record<string, string> {
  return {
    KAFKA_NODE_ID: "1",
    KAFKA_PROCESS_ROLES: "broker,controller",
    KAFKA_LISTENERS: "PLAINTEXT://0.0.0.0:9092,CONTROLLER://127.0.0.1:9093",
    KAFKA_ADVERTISED_LISTENERS: `PLAINTEXT://${host}:${hostPort}`,
    KAFKA_LISTENER_SECURITY_PROTOCOL_MAP: "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
    KAFKA_CONTROLLER_LISTENER_NAMES: "CONTROLLER",
    KAFKA_INTER_BROKER_LISTENER_NAME: "PLAINTEXT",
    KAFKA_CONTROLLER_QUORUM_VOTERS: "1@127.0.0.1:9093",
    KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR: "1",
    KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR: "1",
    KAFKA_TRANSACTION_STATE_LOG_MIN_ISR: "1",
    KAFKA_SHARE_COORDINATOR_STATE_TOPIC_REPLICATION_FACTOR: "1",
    KAFKA_SHARE_COORDINATOR_STATE_TOPIC_MIN_ISR: "1",
    KAFKA_GROUP_INITIAL_REBALANCE_DELAY_MS: "0",
    KAFKA_NUM_PARTITIONS: "1",
    KAFKA_AUTO_CREATE_TOPICS_ENABLE: "true",
    KAFKA_HEAP_OPTS: "-Xms256m -Xmx512m",
  };
}

const CLUSTER_ID = "4L6g3nShT-eMCtK--X86sw"; // the one the image's storage was formatted with
const SSL_PORT = 9094;
const SASL_SSL_PORT = 9095;
const TLS_DATA = "/var/lib/kafka/tls-data";

/**
 * The broker settings of a secured broker: beside PLAINTEXT (the probe, inter-broker), an SSL
 * listener that requires a client certificate and a SASL_SSL one with PLAIN and SCRAM-SHA-256/512;
 * certificates as PEM files. Keys follow the entrypoint's `KAFKA_` convention (`_` is `.`, `__` is
 * `_`, `___` is `-`).
 */
function tlsEnvironment(
  hostPort: number,
  sslPort: number,
  saslPort: number,
  host: string,
  users: Record<string, string>,
): Record<string, string> {
  const plainUsers = Object.entries(users)
    .map(([user, password]) => ` user_${user}="${password}"`)
    .join("");
  const scram = "org.apache.kafka.common.security.scram.ScramLoginModule required;";
  return {
    KAFKA_LISTENERS:
      "PLAINTEXT://0.0.0.0:9092,CONTROLLER://127.0.0.1:9093," +
      `SSL://0.0.0.0:${SSL_PORT},SASL_SSL://0.0.0.0:${SASL_SSL_PORT}`,
    KAFKA_ADVERTISED_LISTENERS: `PLAINTEXT://${host}:${hostPort},SSL://${host}:${sslPort},SASL_SSL://${host}:${saslPort}`,
    KAFKA_LISTENER_SECURITY_PROTOCOL_MAP:
      "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT,SSL:SSL,SASL_SSL:SASL_SSL",
    KAFKA_SSL_KEYSTORE_TYPE: "PEM",
    KAFKA_SSL_KEYSTORE_LOCATION: "/tls/server.pem",
    KAFKA_SSL_TRUSTSTORE_TYPE: "PEM",
    KAFKA_SSL_TRUSTSTORE_LOCATION: "/tls/ca.crt",
    KAFKA_LISTENER_NAME_SSL_SSL_CLIENT_AUTH: "required",
    KAFKA_SASL_ENABLED_MECHANISMS: "PLAIN,SCRAM-SHA-256,SCRAM-SHA-512",
    KAFKA_LISTENER_NAME_SASL__SSL_PLAIN_SASL_JAAS_CONFIG: `org.apache.kafka.common.security.plain.PlainLoginModule required${plainUsers};`,
    KAFKA_LISTENER_NAME_SASL__SSL_SCRAM___SHA___256_SASL_JAAS_CONFIG: scram,
    KAFKA_LISTENER_NAME_SASL__SSL_SCRAM___SHA___512_SASL_JAAS_CONFIG: scram,
    KAFKA_LOG_DIRS: TLS_DATA,
  };
}

/**
 * SCRAM credentials live in the cluster metadata, so the secured broker gets fresh storage,
 * formatted with them (`--add-scram`) before the image's entrypoint starts it.
 */
function formatWithScram(users: Record<string, string>): string[] {
  const properties = [
    "node.id=1",
    "process.roles=broker,controller",
    "controller.quorum.voters=1@127.0.0.1:9093",
    "controller.listener.names=CONTROLLER",
    "listeners=PLAINTEXT://0.0.0.0:9092,CONTROLLER://127.0.0.1:9093",
    "advertised.listeners=PLAINTEXT://localhost:9092",
    `log.dirs=${TLS_DATA}`,
  ].join("\\n");
  const scram = Object.entries(users).flatMap(([name, password]) =>
    ["SCRAM-SHA-256", "SCRAM-SHA-512"].map(
      (mechanism) => `--add-scram '${mechanism}=[name=${name},password=${password}]'`,
    ),
  );
  return [
    "sh",
    "-c",
    `set -e; printf '${properties}\\n' >/tmp/format.properties; ` +
      "java -XX:TieredStopAtLevel=1 -Dorg.slf4j.simpleLogger.defaultLogLevel=warn -cp '/opt/kafka/libs/*' " +
      `kafka.tools.StorageTool format -t ${CLUSTER_ID} -c /tmp/format.properties ${scram.join(" ")} >/dev/null; ` +
      "exec outrig-entrypoint kafka",
  ];
}

/**
 * Apache Kafka (KRaft, single node) in a container, or the brokers `OUTRIG_TEST_KAFKA_BROKERS`
 * names (`host:port[,host:port]`). With `tls` it is always a container with an SSL listener
 * (`sslBrokers`, client certificate required) and a SASL_SSL one (`saslBrokers`: PLAIN and
 * SCRAM-SHA-256/512 for `users`).
 */
export async function startKafka(options: KafkaStartOptions = {}): Promise<KafkaService> {
  const override = options.container || options.tls ? undefined : process.env[OVERRIDE];
  if (override) {
    const brokers = override
      .split(",")
      .map((b) => b.trim())
      .filter(Boolean);
    const { host, port } = hostAndPort(brokers[0] ?? "", 9092);
    const base = await useExternal(kafkaDefinition, host, port, pingKafka, options.readyTimeoutMs);
    return { ...base, name: "kafka", url: `kafka://${host}:${port}`, brokers };
  }
  const host = process.env.TESTCONTAINERS_HOST_OVERRIDE ?? "127.0.0.1";
  const tls = options.tls;
  const users = options.users ?? {};
  const base = await startContainer(
    {
      service: kafkaDefinition,
      containerPort: 9092,
      environment: (hostPort, extra) => ({
        ...kafkaEnvironment(hostPort, host),
        ...(tls
          ? tlsEnvironment(hostPort, extra[0] as number, extra[1] as number, host, users)
          : {}),
      }),
      probe: pingKafka,
      ...(tls
        ? {
            extraPorts: [SSL_PORT, SASL_SSL_PORT],
            command: formatWithScram(users),
            files: [
              { content: tls.caCert, target: "/tls/ca.crt", mode: 0o644 },
              {
                content: `${tls.serverKey}${tls.serverCert}`,
                target: "/tls/server.pem",
                mode: 0o644,
              },
            ],
          }
        : {}),
    },
    options,
  );
  const broker = `${base.host}:${base.port}`;
  return {
    ...base,
    name: "kafka",
    url: `kafka://${broker}`,
    brokers: [broker],
    ...(tls
      ? {
          sslBrokers: [`${base.host}:${base.extraHostPorts[0]}`],
          saslBrokers: [`${base.host}:${base.extraHostPorts[1]}`],
        }
      : {}),
  };
}
