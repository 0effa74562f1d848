import { setTimeout as sleep } from "node:timers/promises";
import { ComponentError, type Logger, parseDuration } from "@outrig/core";
import type { ResiliencyResource } from "../resources/model.ts";
import { type ActorPolicy, actorPolicy } from "./actor-policy.ts";
import { timeoutMs } from "./app-timeouts.ts";
import {
  type BreakerCounts,
  type BreakerState,
  CircuitBreaker,
  isBreakerRefusal,
} from "./circuit-breaker.ts";

export interface RetryPolicy {
  name: string;
  policy: "constant" | "exponential";
  /** constant: the wait between attempts. */
  durationMs: number;
  /** exponential: the cap of the wait. */
  maxIntervalMs: number;
  /** Retries after the first attempt; -1 = no limit (Dapr's default). */
  maxRetries: number;
  /**
   * `matching.httpStatusCodes`: the statuses of an app's answer that are retried; absent, every
   * error status (400-599) is, as Dapr retries "all HTTP errors" when the field is not set.
   */
  httpStatusCodes?: ((status: number) => boolean) | undefined;
  /**
   * `matching.gRPCStatusCodes`: the status codes of a gRPC app's failure that are retried;
   * absent, every failure is, as Dapr retries all gRPC errors when the field is not set.
   */
  grpcStatusCodes?: ((code: number) => boolean) | undefined;
}

/** The fields of `matching` and the codes each may list, as Dapr validates them. */
const MATCHING = {
  httpStatusCodes: { min: 100, max: 599, digits: "\\d{3}" },
  gRPCStatusCodes: { min: 0, max: 16, digits: "\\d{1,2}" },
} as const;

/**
 * Reads one of Dapr's `matching` fields ("429,500-599", "1-4,8-11,13,14": codes and inclusive
 * ranges); undefined for an empty string, a throw naming the policy for anything malformed.
 */
export function parseStatusCodes(
  text: string | undefined,
  policy: string,
  field: keyof typeof MATCHING = "httpStatusCodes",
): ((status: number) => boolean) | undefined {
  if (!text?.trim()) return undefined;
  const { min, max, digits } = MATCHING[field];
  const shape = new RegExp(`^\\s*(${digits})\\s*(?:-\\s*(${digits})\\s*)?$`);
  const ranges: [number, number][] = [];
  for (const part of text.split(",")) {
    const m = shape.exec(part);
    const lo = Number(m?.[1]);
    const hi = m?.[2] ? Number(m[2]) : lo;
    if (!m || lo < min || hi > max || lo > hi)
      throw new Error(
        `Resiliency retry ${policy}: matching.${field} ${JSON.stringify(text)} is not a list of codes or ranges within ${min}-${max}`,
      );
    ranges.push([lo, hi]);
  }
  return (status) => ranges.some(([lo, hi]) => status >= lo && status <= hi);
}

/** Runs a call through circuit breakers: one CircuitBreaker, or an actor's two (actor-policy.ts). */
export interface Breaker {
  execute<T>(op: () => Promise<T>, isFailure: (error: unknown) => boolean): Promise<T>;
}

/** The policies one target runs with; each part optional. */
export interface TargetPolicy {
  timeoutMs?: number | undefined;
  retry?: RetryPolicy | undefined;
  breaker?: Breaker | undefined;
}

/** Errors that say the request itself is wrong: retrying cannot help and a breaker ignores them. */
const CLIENT_ERRORS = new Set([
  "ERR_INVALID_REQUEST",
  "ERR_NOT_FOUND",
  "ERR_NOT_SUPPORTED",
  "ERR_CONFIG_INVALID",
  "ERR_ETAG_MISMATCH",
  "ERR_ETAG_INVALID",
  "ERR_BULK",
]);

function isClientError(error: unknown): boolean {
  return error instanceof ComponentError && CLIENT_ERRORS.has(error.code);
}

/** Dapr's exponential backoff: 500 ms first, ×1.5 each time, ±50% jitter, capped. */
function backoffMs(retry: RetryPolicy, attempt: number): number {
  if (retry.policy === "constant") return retry.durationMs;
  const base = Math.min(500 * 1.5 ** attempt, retry.maxIntervalMs);
  return Math.min(base * (0.5 + Math.random()), retry.maxIntervalMs);
}

function withTimeout<T>(op: () => Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    op(),
    new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new ComponentError("ERR_TIMEOUT", `${what} timed out after ${ms}ms`)),
        ms,
      );
    }),
  ]).finally(() => clearTimeout(timer));
}

/**
 * Runs `op` as Dapr's policy runner does: each attempt under the timeout, through the breaker,
 * retried by the retry policy. A refusal of an open breaker and a client error end at once;
 * `retry: false` (a write that can apply twice) makes a single attempt.
 */
export async function runWithPolicy<T>(
  policy: TargetPolicy,
  what: string,
  op: () => Promise<T>,
  options: {
    retry: boolean;
    retryable?: (error: unknown) => boolean;
    /** Hears of each retry about to be made (for the activation metrics). */
    onRetry?: () => void;
  },
): Promise<T> {
  const attempt = policy.timeoutMs ? () => withTimeout(op, policy.timeoutMs as number, what) : op;
  const guarded = policy.breaker
    ? () => (policy.breaker as Breaker).execute(attempt, (e) => !isClientError(e))
    : attempt;
  const retry = options.retry ? policy.retry : undefined;
  for (let n = 0; ; n++) {
    try {
      return await guarded();
    } catch (error) {
      const exhausted = !retry || (retry.maxRetries >= 0 && n >= retry.maxRetries);
      if (exhausted || isClientError(error) || isBreakerRefusal(error)) throw error;
      if (options.retryable && !options.retryable(error)) throw error;
      options.onRetry?.();
      await sleep(backoffMs(retry, n));
    }
  }
}

type Kind = "Timeout" | "Retry" | "CircuitBreaker";

/** The policy kinds as daprd's `policy` metric label names them. */
export type PolicyKind = "timeout" | "retry" | "circuitbreaker";

/** Hears of policies acting, as daprd's `dapr_resiliency_activations_total` counts them. */
export interface ResiliencyObserver {
  /**
   * Resource `name`'s `policy` acted on `target` (`actor_<type>`): a timeout fired, a retry is
   * made, or a breaker changed state (`status`, its new state).
   */
  resiliencyActivated(name: string, policy: PolicyKind, target: string, status?: string): void;
}

/**
 * The Resiliency resources in scope of one app, compiled: named policies, and per target the
 * policy each kind resolves to, with Dapr's fallbacks when a target names none:
 * `DefaultComponent<Outbound|Inbound><Kind>Policy`, then `DefaultComponent<Kind>Policy`, then
 * `Default<Kind>Policy`. One breaker per target, created on first use.
 */
export class ResiliencyPolicies {
  readonly #resources: readonly ResiliencyResource[];
  readonly #logger: Logger;
  readonly #observer: ResiliencyObserver | undefined;
  readonly #trip: Map<string, (c: BreakerCounts) => boolean>;
  readonly #targets = new Map<string, TargetPolicy | undefined>();
  readonly #actors = new Map<string, ActorPolicy | undefined>();

  private constructor(
    resources: readonly ResiliencyResource[],
    logger: Logger,
    trip: Map<string, (c: BreakerCounts) => boolean>,
    observer: ResiliencyObserver | undefined,
  ) {
    this.#resources = resources;
    this.#logger = logger;
    this.#trip = trip;
    this.#observer = observer;
  }

  /**
   * Compiles the resources in scope of `appId`; a `trip` that is not valid CEL fails, naming it.
   * `observer` hears of actor policies acting (the other targets do not report yet).
   */
  static async load(
    resiliencies: readonly ResiliencyResource[],
    appId: string,
    logger: Logger,
    observer?: ResiliencyObserver,
  ): Promise<ResiliencyPolicies> {
    const inScope = resiliencies.filter((r) => r.scopes.length === 0 || r.scopes.includes(appId));
    for (const r of inScope)
      for (const [name, p] of Object.entries(r.spec.policies?.retries ?? {})) {
        parseStatusCodes(p.matching?.httpStatusCodes, name);
        parseStatusCodes(p.matching?.gRPCStatusCodes, name, "gRPCStatusCodes");
      }
    // As daprd, which refuses such a resource: the breaker's state has no home without it.
    for (const r of inScope)
      for (const [type, ref] of Object.entries(r.spec.targets?.actors ?? {}))
        if (ref.circuitBreaker && !ref.circuitBreakerScope)
          throw new Error(
            `Resiliency ${r.name}: targets.actors.${type} names circuitBreaker ${ref.circuitBreaker} without circuitBreakerScope (id, type or both)`,
          );
    const trip = new Map<string, (c: BreakerCounts) => boolean>();
    const breakers = inScope.flatMap((r) => Object.entries(r.spec.policies?.circuitBreakers ?? {}));
    if (breakers.length > 0) {
      const { parse } = await import("@marcbachmann/cel-js");
      for (const [name, cb] of breakers) {
        const expression = cb.trip?.trim() || "consecutiveFailures > 5";
        let program: (context: Record<string, unknown>) => unknown;
        try {
          program = parse(expression);
        } catch (error) {
          throw new Error(
            `Resiliency circuit breaker ${name}: trip ${JSON.stringify(expression)} is not valid CEL: ${(error as Error).message}`,
          );
        }
        trip.set(name, (c) => {
          try {
            // CEL integers: the counts go in as int, so `consecutiveFailures > 5` compares ints.
            return (
              program(Object.fromEntries(Object.entries(c).map(([k, v]) => [k, BigInt(v)]))) ===
              true
            );
          } catch {
            return false;
          }
        });
      }
    }
    return new ResiliencyPolicies(inScope, logger, trip, observer);
  }

  /** No Resiliency resource is in scope: nothing to wrap. */
  get empty(): boolean {
    return this.#resources.length === 0;
  }

  /** The policy for calls from the app to component `name`, or undefined when none applies. */
  componentOutbound(name: string): TargetPolicy | undefined {
    return this.#component(name, "outbound");
  }

  /** The policy for deliveries from component `name` to the app (messages, binding events). */
  componentInbound(name: string): TargetPolicy | undefined {
    return this.#component(name, "inbound");
  }

  /**
   * The retry and breaker for service invocation of app `appId` (its `targets.apps` entry, else
   * `DefaultAppRetryPolicy` / `DefaultAppCircuitBreakerPolicy`, else `Default<Kind>Policy`). The
   * target's timeout is applied by the invoke path itself (app-timeouts.ts), per attempt.
   */
  app(appId: string): TargetPolicy | undefined {
    const key = `app/${appId}`;
    if (!this.#targets.has(key)) {
      const ref = this.#firstRef((r) => r.spec.targets?.apps?.[appId]);
      const pick = (kind: Kind, named: string | undefined) =>
        named ??
        [`DefaultApp${kind}Policy`, `Default${kind}Policy`].find((d) => this.#has(kind, d));
      const retry = pick("Retry", ref?.retry);
      const breaker = pick("CircuitBreaker", ref?.circuitBreaker);
      const policy: TargetPolicy = {
        retry: retry ? this.#retry(retry) : undefined,
        breaker: breaker ? this.#breaker(breaker, `app-${appId}`) : undefined,
      };
      this.#targets.set(key, policy.retry || policy.breaker ? policy : undefined);
    }
    return this.#targets.get(key);
  }

  /**
   * The policy for the sidecar's calls into the app for actors of `type` (its `targets.actors`
   * entry, else `DefaultActor<Kind>Policy`, else `Default<Kind>Policy`); undefined when none.
   * Breakers are kept by the entry's circuitBreakerScope; a default breaker is per type, as
   * daprd keys it.
   */
  actor(type: string): ActorPolicy | undefined {
    const key = `actor/${type}`;
    if (!this.#actors.has(key)) {
      const ref = this.#firstRef((r) => r.spec.targets?.actors?.[type]);
      const pick = (kind: Kind, named: string | undefined) =>
        ref
          ? named
          : [`DefaultActor${kind}Policy`, `Default${kind}Policy`].find((d) => this.#has(kind, d));
      const timeout = pick("Timeout", ref?.timeout);
      const retry = pick("Retry", ref?.retry);
      const breaker = pick("CircuitBreaker", ref?.circuitBreaker);
      // The metrics name the resource the target (or the first default it fell back to) is in.
      const source = this.#resources.find((r) =>
        ref
          ? r.spec.targets?.actors?.[type] !== undefined
          : (timeout !== undefined && r.spec.policies?.timeouts?.[timeout] !== undefined) ||
            (retry !== undefined && r.spec.policies?.retries?.[retry] !== undefined) ||
            (breaker !== undefined && r.spec.policies?.circuitBreakers?.[breaker] !== undefined),
      );
      const observer = this.#observer;
      const activated =
        observer && source
          ? (policy: PolicyKind, status?: string) =>
              observer.resiliencyActivated(source.name, policy, `actor_${type}`, status)
          : undefined;
      this.#actors.set(
        key,
        actorPolicy({
          type,
          timeoutMs: timeout ? this.#timeout(timeout) : undefined,
          retry: retry ? this.#retry(retry) : undefined,
          breaker:
            breaker && this.#trip.has(breaker)
              ? (target) =>
                  this.#breaker(
                    breaker,
                    target,
                    activated && ((state) => activated("circuitbreaker", state)),
                  ) as CircuitBreaker
              : undefined,
          activated,
          scope: ref?.circuitBreakerScope ?? "type",
          cacheSize: ref?.circuitBreakerCacheSize || undefined,
        }),
      );
    }
    return this.#actors.get(key);
  }

  #component(name: string, direction: "outbound" | "inbound"): TargetPolicy | undefined {
    const key = `component/${name}/${direction}`;
    if (!this.#targets.has(key)) {
      const ref = this.#firstRef((r) => r.spec.targets?.components?.[name]?.[direction]);
      const Direction = direction === "outbound" ? "Outbound" : "Inbound";
      const pick = (kind: Kind, named: string | undefined) =>
        named ??
        [
          `DefaultComponent${Direction}${kind}Policy`,
          `DefaultComponent${kind}Policy`,
          `Default${kind}Policy`,
        ].find((d) => this.#has(kind, d));
      const timeout = pick("Timeout", ref?.timeout);
      const retry = pick("Retry", ref?.retry);
      const breaker = pick("CircuitBreaker", ref?.circuitBreaker);
      const policy: TargetPolicy = {
        timeoutMs: timeout ? this.#timeout(timeout) : undefined,
        retry: retry ? this.#retry(retry) : undefined,
        breaker: breaker ? this.#breaker(breaker, `${name}-${direction}`) : undefined,
      };
      this.#targets.set(
        key,
        policy.timeoutMs || policy.retry || policy.breaker ? policy : undefined,
      );
    }
    return this.#targets.get(key);
  }

  #firstRef<T>(get: (r: ResiliencyResource) => T | undefined): T | undefined {
    for (const r of this.#resources) {
      const v = get(r);
      if (v !== undefined) return v;
    }
    return undefined;
  }

  #has(kind: Kind, name: string): boolean {
    const group = { Timeout: "timeouts", Retry: "retries", CircuitBreaker: "circuitBreakers" }[
      kind
    ] as "timeouts" | "retries" | "circuitBreakers";
    return this.#resources.some((r) => r.spec.policies?.[group]?.[name] !== undefined);
  }

  #timeout(ref: string): number | undefined {
    return timeoutMs(
      this.#firstRef((r) => r.spec.policies?.timeouts?.[ref]),
      ref,
    );
  }

  #retry(name: string): RetryPolicy | undefined {
    const p = this.#firstRef((r) => r.spec.policies?.retries?.[name]);
    if (!p) return undefined;
    return {
      name,
      policy: p.policy ?? "constant",
      durationMs: p.duration ? (parseDuration(p.duration) ?? 5000) : 5000,
      maxIntervalMs: p.maxInterval ? (parseDuration(p.maxInterval) ?? 60_000) : 60_000,
      maxRetries: p.maxRetries ?? -1,
      httpStatusCodes: parseStatusCodes(p.matching?.httpStatusCodes, name),
      grpcStatusCodes: parseStatusCodes(p.matching?.gRPCStatusCodes, name, "gRPCStatusCodes"),
    };
  }

  #breaker(
    name: string,
    target: string,
    onStateChange?: (state: BreakerState) => void,
  ): CircuitBreaker | undefined {
    const p = this.#firstRef((r) => r.spec.policies?.circuitBreakers?.[name]);
    const trip = this.#trip.get(name);
    if (!p || !trip) return undefined;
    return new CircuitBreaker(
      `${name}/${target}`,
      {
        maxRequests: p.maxRequests ?? 1,
        intervalMs: p.interval ? (parseDuration(p.interval) ?? 0) : 0,
        timeoutMs: p.timeout ? (parseDuration(p.timeout) ?? 60_000) : 60_000,
        trip,
      },
      this.#logger,
      onStateChange,
    );
  }
}
