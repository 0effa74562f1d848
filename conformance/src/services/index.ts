export { startDynamoDB } from "./dynamodb.ts";
export type { ServiceImages } from "./images.ts";
export { imageEnvVar, SERVICE_IMAGES } from "./images.ts";
export { kafkaEnvironment, startKafka } from "./kafka.ts";
export { startMosquitto } from "./mosquitto.ts";
export { startPostgres } from "./postgres.ts";
export type { KafkaBroker } from "./probes.ts";
export { startRabbitMQ } from "./rabbitmq.ts";
export { startRedis } from "./redis.ts";
export { removeTestContainers, resolveImage, TEST_CONTAINER_LABEL } from "./service.ts";
export { overrideFor, sharedServices } from "./shared.ts";
export type { TestCertificates } from "./tls.ts";
export { makeTestCertificates } from "./tls.ts";
export type {
  DynamoDBService,
  KafkaService,
  KafkaStartOptions,
  MosquittoService,
  MosquittoStartOptions,
  PostgresService,
  PostgresStartOptions,
  RabbitMQService,
  RabbitMQStartOptions,
  RedisService,
  RedisStartOptions,
  ServiceHandle,
  ServiceName,
  StartServiceOptions,
} from "./types.ts";
export { useService } from "./use-service.ts";
export type { ZipkinServer, ZipkinSpan } from "./zipkin.ts";
export { startZipkin } from "./zipkin.ts";
