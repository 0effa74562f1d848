import type { RecoveryOptions } from "amqplib";

/**
 * How long one connection attempt may go without a byte from the broker (TCP connect, TLS and
 * the AMQP handshake; amqplib's `timeout` socket option, cleared once the connection is open).
 * Without it, an attempt whose SYN is dropped (the broker's host or container is being replaced,
 * a route is gone) waits for the kernel's retries, a minute or more, and recovery makes no other
 * attempt meanwhile: one client is back in milliseconds while another stays away that long.
 */
export const CONNECT_TIMEOUT_MS = 5_000;

/**
 * amqplib options for a connection that recovers by itself: a bounded attempt, backoff up to
 * `reconnectWait`, a fast failure at startup (so a wrong address surfaces as an error), retries
 * forever later. Channels and consumers are re-created by the components on `connect`.
 */
export function recoveringConnection(reconnectWait: number): {
  timeout: number;
  recovery: RecoveryOptions;
} {
  return {
    timeout: CONNECT_TIMEOUT_MS,
    recovery: {
      initialDelay: 100,
      maxDelay: Math.max(100, reconnectWait),
      initialMaxRetries: 2,
      maxRetries: Number.POSITIVE_INFINITY,
      waitForConnect: false,
    },
  };
}
