import type { ServiceName } from "./types.ts";

export interface ServiceImages {
  /** What a contributor with Docker and a registry gets by default. */
  readonly public: string;
  /** What `pnpm conformance:images` builds locally (conformance/images/<svc>). */
  readonly local: string;
}

/**
 * Image pairs per service. `local` tags must match `TAG=` in conformance/images/<svc>/image.conf.
 * DynamoDB has no open-source official image: both point at the moto image built locally
 * (DynamoDB Local's licence is the vendor's own terms, so the project does not ship or default to it).
 */
export const SERVICE_IMAGES: Readonly<Record<ServiceName, ServiceImages>> = {
  redis: { public: "redis:7", local: "localhost/outrig-redis:7" },
  postgres: { public: "postgres:15", local: "localhost/outrig-postgres:15" },
  rabbitmq: { public: "rabbitmq:3", local: "localhost/outrig-rabbitmq:3" },
  kafka: { public: "apache/kafka:4.4.0", local: "localhost/outrig-kafka:4.4.0" },
  dynamodb: {
    public: "localhost/outrig-dynamodb:moto-5.2.1",
    local: "localhost/outrig-dynamodb:moto-5.2.1",
  },
  mosquitto: { public: "eclipse-mosquitto:2", local: "localhost/outrig-mosquitto:2" },
};

export function envPrefix(name: ServiceName): string {
  return `OUTRIG_TEST_${name === "mosquitto" ? "MQTT" : name.toUpperCase()}`;
}

/** The env var that selects a service's image, e.g. `OUTRIG_TEST_REDIS_IMAGE`. */
export function imageEnvVar(name: ServiceName): string {
  return `OUTRIG_TEST_${name.toUpperCase()}_IMAGE`;
}
