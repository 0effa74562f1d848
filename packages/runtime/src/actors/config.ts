import type { Logger } from "@outrig/core";
import { field } from "../api/json.ts";
import { parseGoDuration } from "../scheduler/spec.ts";

export interface ReentrancyConfig {
  enabled: boolean;
  /** Calls of one chain inside an actor at once; daprd's default is 32. */
  maxStackDepth: number;
}

/** How the sidecar runs the actors of one type, from the app's `GET /dapr/config`. */
export interface ActorTypeConfig {
  type: string;
  /** An actor with no turn for this long is deactivated (daprd's default 60m). */
  idleTimeoutMs: number;
  /** How long a deactivation waits for the turn in progress (daprd's default 60s). */
  drainOngoingCallTimeoutMs: number;
  /** Whether actors moved to another sidecar wait for their turn first (placement only). */
  drainRebalancedActors: boolean;
  reentrancy: ReentrancyConfig;
}

export const DEFAULT_IDLE_TIMEOUT_MS = 60 * 60_000;
export const DEFAULT_DRAIN_ONGOING_CALL_TIMEOUT_MS = 60_000;
export const DEFAULT_MAX_STACK_DEPTH = 32;

interface Settings {
  idleTimeoutMs: number;
  drainOngoingCallTimeoutMs: number;
  drainRebalancedActors: boolean;
  reentrancy: ReentrancyConfig;
}

const DEFAULTS: Settings = {
  idleTimeoutMs: DEFAULT_IDLE_TIMEOUT_MS,
  drainOngoingCallTimeoutMs: DEFAULT_DRAIN_ONGOING_CALL_TIMEOUT_MS,
  drainRebalancedActors: true,
  reentrancy: { enabled: false, maxStackDepth: DEFAULT_MAX_STACK_DEPTH },
};

/** Fields daprd reads but no longer applies; warned about by name, never silently dropped. */
const IGNORED: Record<string, string> = {
  actorscaninterval: "daprd ignores it since 1.14: each actor has its own idle timer",
  remindersstoragepartitions: "reminders live in the scheduler, which needs no partitions",
};

const KNOWN = new Set([
  "entities",
  "actoridletimeout",
  "drainongoingcalltimeout",
  "drainrebalancedactors",
  "reentrancy",
  "entitiesconfig",
]);

function duration(value: unknown, name: string, fallback: number, warn: (m: string) => void) {
  if (value === undefined || value === null || value === "") return fallback;
  const ms = typeof value === "string" ? parseGoDuration(value) : undefined;
  if (ms === undefined || ms <= 0) {
    warn(
      `${name} ${JSON.stringify(value)} is not a positive Go duration (e.g. 1h, 30s); using the default`,
    );
    return fallback;
  }
  return ms;
}

function settings(
  raw: unknown,
  base: Settings,
  where: string,
  warn: (m: string) => void,
): Settings {
  const r = field(raw, "reentrancy");
  const enabled = field(r, "enabled");
  const depth = field(r, "maxStackDepth");
  let maxStackDepth = base.reentrancy.maxStackDepth;
  if (depth !== undefined && depth !== null) {
    if (typeof depth === "number" && Number.isInteger(depth) && depth > 0) maxStackDepth = depth;
    else
      warn(
        `${where}reentrancy.maxStackDepth ${JSON.stringify(depth)} is not a positive integer; using ${maxStackDepth}`,
      );
  }
  const drain = field(raw, "drainRebalancedActors");
  return {
    idleTimeoutMs: duration(
      field(raw, "actorIdleTimeout"),
      `${where}actorIdleTimeout`,
      base.idleTimeoutMs,
      warn,
    ),
    drainOngoingCallTimeoutMs: duration(
      field(raw, "drainOngoingCallTimeout"),
      `${where}drainOngoingCallTimeout`,
      base.drainOngoingCallTimeoutMs,
      warn,
    ),
    drainRebalancedActors: typeof drain === "boolean" ? drain : base.drainRebalancedActors,
    reentrancy: {
      enabled: typeof enabled === "boolean" ? enabled : base.reentrancy.enabled,
      maxStackDepth,
    },
  };
}

function warnUnknown(raw: object, where: string, warn: (m: string) => void): void {
  for (const key of Object.keys(raw)) {
    const lower = key.toLowerCase();
    if (IGNORED[lower]) warn(`${where}${key} is not applied: ${IGNORED[lower]}`);
    else if (!KNOWN.has(lower)) warn(`${where}${key} is not an actor setting; ignored`);
  }
}

function strings(value: unknown): string[] {
  return Array.isArray(value)
    ? value.filter((v): v is string => typeof v === "string" && v !== "")
    : [];
}

/**
 * The actor types an app hosts and their settings, from its `GET /dapr/config` answer:
 * top-level settings apply to every type, an `entitiesConfig` entry overrides them for its
 * types. Anything unreadable is warned about by name and its default used.
 */
export function parseActorConfig(body: unknown, logger: Logger): Map<string, ActorTypeConfig> {
  const types = new Map<string, ActorTypeConfig>();
  if (body === null || typeof body !== "object" || Array.isArray(body)) {
    logger.debug("the app's /dapr/config answer is not a JSON object; it hosts no actors");
    return types;
  }
  // An app that answers every path (a catch-all route) is no actor host: nothing to check.
  if (field(body, "entities") === undefined && field(body, "entitiesConfig") === undefined) {
    return types;
  }
  const warn = (message: string) => logger.warn(`actor config (GET /dapr/config): ${message}`);
  warnUnknown(body, "", warn);
  const base = settings(body, DEFAULTS, "", warn);
  for (const type of strings(field(body, "entities"))) types.set(type, { type, ...base });
  const overrides = field(body, "entitiesConfig");
  if (Array.isArray(overrides)) {
    overrides.forEach((entry, i) => {
      if (entry === null || typeof entry !== "object") return;
      const where = `entitiesConfig[${i}].`;
      warnUnknown(entry, where, warn);
      const own = settings(entry, base, where, warn);
      for (const type of strings(field(entry, "entities"))) {
        if (!types.has(type))
          warn(`${where}entities names ${type}, which is not in entities; hosted anyway`);
        types.set(type, { type, ...own });
      }
    });
  }
  return types;
}
