import { pingKafka } from "./probes.ts";
import { hostAndPort, startContainer, useExternal } from "./service.ts";
import type { KafkaService, StartServiceOptions } from "./types.ts";

const OVERRIDE = "OUTRIG_TEST_KAFKA_BROKERS";

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

/**
 * Apache Kafka (KRaft, single node) in a container, or the brokers `OUTRIG_TEST_KAFKA_BROKERS`
 * names (`host:port[,host:port]`).
 */
export async function startKafka(options: StartServiceOptions = {}): Promise<KafkaService> {
  const override = options.container ? undefined : process.env[OVERRIDE];
  if (override) {
    const brokers = override
      .split(",")
      .map((b) => b.trim())
      .filter(Boolean);
    const { host, port } = hostAndPort(brokers[0] ?? "", 9092);
    const base = await useExternal(
      "kafka",
      OVERRIDE,
      host,
      port,
      pingKafka,
      options.readyTimeoutMs,
    );
    return { ...base, name: "kafka", url: `kafka://${host}:${port}`, brokers };
  }
  const host = process.env.TESTCONTAINERS_HOST_OVERRIDE ?? "127.0.0.1";
  const base = await startContainer(
    {
      name: "kafka",
      containerPort: 9092,
      environment: (hostPort) => kafkaEnvironment(hostPort, host),
      probe: pingKafka,
    },
    options,
  );
  const broker = `${base.host}:${base.port}`;
  return { ...base, name: "kafka", url: `kafka://${broker}`, brokers: [broker] };
}
