import type { TestCertificates } from "./tls.ts";

/** The services the conformance suites run against. */
export type ServiceName = "redis" | "postgres" | "rabbitmq" | "kafka" | "dynamodb" | "mosquitto";

/**
 * A running test service: a container this process started, or a service the environment points
 * at through `OUTRIG_TEST_<SVC>_URL` (an "external" one, which this process never stops).
 */
export interface ServiceHandle {
  readonly name: ServiceName;
  /** The image the container runs; `undefined` for an external service. */
  readonly image: string | undefined;
  /** The container id; `undefined` for an external service. */
  readonly containerId: string | undefined;
  /** True when the service came from an `OUTRIG_TEST_*` override rather than a container. */
  readonly external: boolean;
  /** Host and port on the test machine (loopback for containers). */
  readonly host: string;
  readonly port: number;
  /** A URL a client library accepts (`redis://`, `postgres://`, `amqp://`, `mqtt://`, `http://`). */
  readonly url: string;
  /** Removes the container. Idempotent; does nothing for an external service. */
  stop(): Promise<void>;
  /**
   * Stops the service and starts it again on the same host port, then waits until it answers, so
   * clients can reconnect to the address they had. Throws for an external service.
   */
  restart(): Promise<void>;
  /**
   * Stops the container but keeps it (and its host port) for `start()`: the service is down
   * until then. Throws for an external service.
   */
  stopTemporarily(): Promise<void>;
  /** Starts a temporarily stopped service again and waits until it answers. */
  start(): Promise<void>;
  /** Checks once that the service answers its own protocol; rejects with the reason if not. */
  ping(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

export interface RedisService extends ServiceHandle {
  readonly name: "redis";
  /** `redis://host:port` (the plain listener) */
  readonly url: string;
  /** The TLS listener's host port, when started with `tls`. */
  readonly tlsPort?: number;
}

export interface PostgresStartOptions extends StartServiceOptions {
  /** Turns on TLS (same port) with these certificates; the role `mtls` then needs a client certificate. */
  tls?: TestCertificates;
}

export interface RedisStartOptions extends StartServiceOptions {
  /** Adds a TLS listener (`tlsPort`) that requires a client certificate the CA signed. */
  tls?: TestCertificates;
  /** `requirepass`: the default user's password (on every listener). */
  password?: string;
  /** An ACL user with every permission. */
  user?: { name: string; password: string };
}

export interface PostgresService extends ServiceHandle {
  readonly name: "postgres";
  /** `postgres://user:password@host:port/database` */
  readonly connectionString: string;
  readonly user: string;
  readonly password: string;
  readonly database: string;
}

export interface RabbitMQService extends ServiceHandle {
  readonly name: "rabbitmq";
  /** `amqp://user:password@host:port` (vhost `/`) */
  readonly url: string;
  readonly user: string;
  readonly password: string /** With `tls`: the AMQPS listener's host port. */;
  readonly tlsPort?: number;
}

export interface RabbitMQStartOptions extends StartServiceOptions {
  /** Adds an AMQPS listener (`tlsPort`) with these certificates, and SASL EXTERNAL for `clientName`. */
  tls?: TestCertificates;
  /** More users (name to password) with every permission on `/`. */
  users?: Record<string, string>;
}

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

export interface DynamoDBService extends ServiceHandle {
  readonly name: "dynamodb";
  /** `http://host:port`, for the AWS SDK's `endpoint`. */
  readonly endpoint: string;
  readonly region: string;
  /** Any credentials work against the emulator; these are what the SDK should be given. */
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
}

export interface MosquittoService extends ServiceHandle {
  readonly name: "mosquitto";
  /** `mqtt://host:port` (the anonymous plain listener) */
  readonly url: string;
  /** With `tls`: the TLS listener that wants a user and password. */
  readonly tlsPort?: number;
  /** With `tls`: the TLS listener that wants a client certificate. */
  readonly mtlsPort?: number;
}

export interface MosquittoStartOptions extends StartServiceOptions {
  /** Adds the TLS listeners `tlsPort` and `mtlsPort` with these certificates. */
  tls?: TestCertificates;
  /** User names and passwords the `tlsPort` listener accepts. */
  users?: Record<string, string>;
}

export interface StartServiceOptions {
  /** Overrides the image (otherwise `OUTRIG_TEST_<SVC>_IMAGE`, then the defaults). */
  image?: string;
  /** How long to wait for the service to answer after its container starts. Default 90 s (below vitest's 120 s hook timeout). */
  readyTimeoutMs?: number;
  /** Ignore `OUTRIG_TEST_<SVC>_URL` and always start a container (for restart tests). */
  container?: boolean;
}
