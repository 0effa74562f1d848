/** What the suite needs from a running sidecar: its HTTP address and a way to stop it. */
export interface SidecarUnderTest {
  /** Base URL of the sidecar's HTTP API, e.g. `http://127.0.0.1:3500`. */
  readonly url: string;
  /** Resolves once the app channel is up (subscriptions and input bindings started). */
  ready?(): Promise<void>;
  stop(): Promise<void>;
}

export interface StartSidecarOptions {
  appId: string;
  /** Component YAML (several `---` documents). */
  resources: string;
  /** Port of the suite's test app on 127.0.0.1. */
  appPort: number;
}

/**
 * Starts a sidecar, e.g. `(o) => startSidecar({ ...o, httpPort: 0, logger: silentLogger })` with
 * `@outrig/runtime`. A parameter rather than an import: the runtime's own tests depend on this
 * package, so importing it here would make the workspace graph cyclic.
 */
export type StartSidecar = (options: StartSidecarOptions) => Promise<SidecarUnderTest>;

/** One component as the YAML declares it. */
export interface SidecarComponent {
  type: string;
  version?: string;
  /** `spec.metadata` as name → value. */
  metadata?: Record<string, string>;
}

export interface SidecarStateConfig extends SidecarComponent {
  /**
   * The store parses ETags (a version number, PostgreSQL's xmin), so a malformed one is 400
   * ERR_STATE_SAVE; otherwise any string is a well-formed but unknown ETag: 409.
   */
  etagsParsed?: boolean;
  /** How long to wait past an expiry before the key must be gone. Default 2500 ms. */
  ttlGraceMs?: number;
}

export interface SidecarPubSubConfig extends SidecarComponent {
  /** Pause after the sidecar is ready before the first publish (consumer group joins). Default 0. */
  waitBeforePublishMs?: number;
  /** How long a delivery may take. Default 20 s. */
  deliveryTimeoutMs?: number;
}

export interface SidecarOutputCall {
  operation: string;
  data?: unknown;
  metadata?: Record<string, string>;
}

export interface SidecarBindingConfig extends SidecarComponent {
  /**
   * A call that must succeed (2xx), built per run so it can name unique keys or queues. With
   * `input: "round-trip"` its `data` must come back to the app's input route.
   */
  output?: (runId: string) => SidecarOutputCall;
  /**
   * A second call that reads back what `output` wrote (redis `get` of the key, http `get` of the
   * path): its response body must be `output`'s data.
   */
  readBack?: (runId: string) => SidecarOutputCall;
  /**
   * How events reach the input side: `round-trip` (what `output` sends comes back, e.g. a queue)
   * or `source` (the binding emits by itself, e.g. a cron schedule).
   */
  input?: "round-trip" | "source";
  /** How long an input event may take. Default 20 s. */
  deliveryTimeoutMs?: number;
}

export interface SidecarConformanceConfig {
  /** Shown in test names, e.g. `redis`. */
  name: string;
  startSidecar: StartSidecar;
  /** Loaded as component `statestore`. */
  state?: SidecarStateConfig;
  /** Loaded as component `pubsub`. */
  pubsub?: SidecarPubSubConfig;
  /** Loaded as component `binding`; it may use the run ID in its metadata through `{runId}`. */
  binding?: SidecarBindingConfig;
  /** Loaded as component `lockstore`. */
  lock?: SidecarComponent;
}
