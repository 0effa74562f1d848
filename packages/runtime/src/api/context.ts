import type { Logger } from "@outrig/core";
import type { ActorRuntime } from "../actors/actor-runtime.ts";
import type { AppChannel } from "../app/channel.ts";
import type { ResolvedHttpEndpoint } from "../components/http-endpoints.ts";
import type { GrpcAppChannel } from "../grpc/app-channel.ts";
import type { TargetPolicy } from "../resiliency/policies.ts";
import type { Runtime } from "../runtime.ts";
import type { Scheduler } from "../scheduler/scheduler.ts";
import type { SpanBuffer } from "../tracing/span-buffer.ts";
import type { WorkflowEngine } from "../workflows/engine.ts";
import type { ConfigurationSubscriptions } from "./configuration.ts";
import type { Outbox } from "./outbox.ts";
import type { StreamingSubscriptions } from "./subscribe-stream.ts";

/** Where another app is, as a registry (e.g. the CLI's) knows it. */
export interface AppAddress {
  /** The app's own server. */
  host: string;
  port: number;
  /** How the app is served; default http. */
  protocol?: "http" | "grpc";
  /** Its sidecar's gRPC API, where gRPC proxying sends calls for the app. */
  sidecar?: { host: string; grpcPort: number };
}

/** What the API operations share, whatever the transport: components, app channel, metadata. */
export interface ApiContext {
  readonly runtime: Runtime;
  readonly appId: string;
  readonly logger: Logger;
  readonly app: AppChannel | undefined;
  /** The app's gRPC channel when it is served over gRPC (`appProtocol: "grpc"`). */
  readonly grpcApp?: GrpcAppChannel | undefined;
  readonly resolveApp: ((appId: string) => Promise<AppAddress | undefined>) | undefined;
  readonly health: { outbound: boolean; ready: boolean };
  readonly extended: Record<string, string>;
  readonly metadata: () => Record<string, unknown>;
  readonly shutdown: () => void;
  /** The configuration subscriptions the API started (absent: subscribing is refused). */
  readonly configurationSubscriptions?: ConfigurationSubscriptions;
  /** The transactional outbox of the state stores configured for it. */
  readonly outbox?: Outbox;
  /** Streaming subscriptions (SubscribeTopicEventsAlpha1); absent where they are not served. */
  readonly streams?: StreamingSubscriptions;
  /** The durable scheduler (Jobs API; later actor reminders and workflow timers). */
  readonly scheduler?: Scheduler | undefined;
  /** The virtual actor runtime; absent where actors are not served (library mode). */
  readonly actors?: ActorRuntime | undefined;
  /** The workflow engine, when a state store is marked actorStateStore. */
  readonly workflows?: WorkflowEngine | undefined;
  /** Service invocation settings: timeout and the external targets allowed. */
  readonly invocation?: InvocationSettings;
  /** The recently finished spans (`GET /outrig/v1/spans`); absent while tracing is off. */
  readonly spans?: SpanBuffer | undefined;
}

export interface InvocationSettings {
  /** An invocation fails when the callee sends nothing for this long. */
  readonly timeoutMs: number;
  /** Resiliency `targets.apps.<id>.timeout`: a deadline for the whole call, per callee app id. */
  readonly appTimeoutsMs?: ReadonlyMap<string, number>;
  /** Resiliency `targets.apps.<id>` retry and circuit breaker (or Dapr's defaults), per callee. */
  readonly appPolicy?: (appId: string) => TargetPolicy | undefined;
  /** HTTPEndpoint resources in scope: callable by name or by their base URL (hot reload replaces them). */
  endpoints: readonly ResolvedHttpEndpoint[];
  /** Hosts (`host` or `host:port`) a URL app id may name besides the endpoints. */
  readonly allowedHosts: readonly string[];
}
