/**
 * Every test service, registered once: a service is its folder (`<service>/index.ts` with the
 * definition, the start function and the readiness probe; `<service>/image/` with the podman
 * recipe and image.json) plus its two lines here. `pnpm new:component --service <name>` writes
 * both. The public exports of each folder are re-exported from `@outrig/conformance/services`.
 */
import type { ServiceImages } from "./definition.ts";
import { dynamodbDefinition } from "./dynamodb/index.ts";
import { kafkaDefinition } from "./kafka/index.ts";
import { mosquittoDefinition } from "./mosquitto/index.ts";
import { postgresDefinition } from "./postgres/index.ts";
import { rabbitmqDefinition } from "./rabbitmq/index.ts";
import { redisDefinition } from "./redis/index.ts";

export * from "./dynamodb/index.ts";
export * from "./kafka/index.ts";
export * from "./mosquitto/index.ts";
export * from "./postgres/index.ts";
export * from "./rabbitmq/index.ts";
export * from "./redis/index.ts";

export const TEST_SERVICES = [
  dynamodbDefinition,
  kafkaDefinition,
  mosquittoDefinition,
  postgresDefinition,
  rabbitmqDefinition,
  redisDefinition,
] as const;

/** The services the conformance suites run against. */
export type ServiceName = (typeof TEST_SERVICES)[number]["name"];

/** Image pairs per service, from each service's image.json. */
export const SERVICE_IMAGES = Object.fromEntries(
  TEST_SERVICES.map((service) => [service.name, service.image]),
) as Readonly<Record<ServiceName, ServiceImages>>;
