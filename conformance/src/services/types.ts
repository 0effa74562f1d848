import type { ServiceName } from "./registry.ts";

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

export interface StartServiceOptions {
  /** Overrides the image (otherwise `OUTRIG_TEST_<SVC>_IMAGE`, then the defaults). */
  image?: string;
  /** How long to wait for the service to answer after its container starts. Default 90 s (below vitest's 120 s hook timeout). */
  readyTimeoutMs?: number;
  /** Ignore `OUTRIG_TEST_<SVC>_URL` and always start a container (for restart tests). */
  container?: boolean;
}
