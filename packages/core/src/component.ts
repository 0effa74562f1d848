import type { Metadata } from "./metadata.ts";

export type ComponentKind =
  | "state"
  | "pubsub"
  | "bindings"
  | "secretstores"
  | "crypto"
  | "configuration"
  | "lock"
  | "conversation";

export interface Logger {
  debug(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

export const silentLogger: Logger = {
  debug() {},
  info() {},
  warn() {},
  error() {},
};

/** What the host (sidecar or app) tells a component when creating it. */
export interface ComponentContext {
  /** The component's resource name (`metadata.name` in YAML), e.g. `statestore`. */
  name?: string;
  /** The app the component serves; Dapr's default consumer ID. */
  appId?: string;
  logger?: Logger;
}

/** Lifecycle every component shares: created from metadata (init), pinged, closed. */
export interface Component {
  /** Resolves when the backend answers; rejects with ERR_UNAVAILABLE otherwise. */
  ping(): Promise<void>;
  /** Releases connections and ends subscriptions and reads. Idempotent. */
  close(): Promise<void>;
}

/** Creates and initialises a component from Dapr metadata (the `init` of Dapr's contract). */
export type ComponentFactory<C extends Component> = (
  metadata: Metadata,
  context?: ComponentContext,
) => Promise<C>;
