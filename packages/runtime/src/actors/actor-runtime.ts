import { randomUUID } from "node:crypto";
import { errorMessage, type Logger } from "@outrig/core";
import { ApiError, apiError } from "../api/errors.ts";
import type { AppResponse } from "../app/channel.ts";
import { JobExistsError, type Scheduler, type TriggerHandler } from "../scheduler/scheduler.ts";
import type { FailurePolicy } from "../scheduler/spec.ts";
import type { ActorApp } from "./app-calls.ts";
import { type ActorTypeConfig, parseActorConfig } from "./config.ts";
import {
  type ActorForwarder,
  FORWARDED_HEADER,
  NOT_OWNER_HEADER,
  NotOwner,
  OwnerUnreachable,
  type RemoteOwner,
} from "./forwarding.ts";
import type { ActorPlacement } from "./placement.ts";
import {
  type ActorSchedule,
  decodeReminder,
  encodeReminder,
  type Reminder,
  reminderCallbackBody,
  reminderKey,
  reminderPrefix,
  reminderSpec,
} from "./reminders.ts";
import { timingOf } from "./schedule.ts";
import type { ActorState, ActorStateOperation } from "./state.ts";
import { ActorTimer, type TimerSpec, timerCallbackBody } from "./timers.ts";
import { StackDepthError, TurnLock } from "./turn-lock.ts";

export const REENTRANCY_HEADER = "Dapr-Reentrancy-Id";
/**
 * To the app, on every actor callback when actors move between sidecars: the placement epoch
 * the activation runs under. It never goes back for an actor, so an app can fence its own
 * writes with it.
 */
export const EPOCH_HEADER = "Outrig-Actor-Epoch";

/** Times a call is sent to an owner again after it refused (moved) or could not be reached. */
const MAX_FORWARDS = 3;

/** How long an actor call waits for the app's actor types before it is answered anyway. */
const READY_WAIT_MS = 5000;

/** One active actor: its turn lock, its timers and its idle clock. */
interface Activation {
  readonly type: string;
  readonly id: string;
  readonly key: string;
  /** The placement epoch it was activated under; a turn checks it is still current. */
  readonly epoch: number;
  readonly lock: TurnLock;
  readonly timers: Map<string, ActorTimer>;
  /** Turns running or waiting. */
  busy: number;
  idle: NodeJS.Timeout | undefined;
  deactivated: boolean;
  /** Resolves once the app was told of the deactivation and the entry is gone. */
  gone: Promise<void>;
  markGone(): void;
}

export interface ActorRuntimeOptions {
  appId: string;
  namespace: string;
  logger: Logger;
  /** The app hosting the actors; absent: this sidecar hosts none. */
  app: ActorApp | undefined;
  placement: ActorPlacement;
  /** Reminders live here; absent: reminder calls fail. */
  scheduler: Scheduler | undefined;
  /**
   * The actor state, read at each call (hot reload may replace the store); undefined (no
   * actorStateStore): state calls fail with ERR_ACTOR_RUNTIME_NOT_FOUND.
   */
  state: () => ActorState | undefined;
  /** Each call to the app gets this long to answer. */
  callTimeoutMs: number;
  /** Keeps a reminder trigger or a timer tick counted as work in flight for a graceful stop. */
  track: <T>(fn: () => Promise<T>) => Promise<T>;
  /** Sends calls for actors other sidecars own there; absent: such calls fail. */
  forwarder?: ActorForwarder | undefined;
}

/** How a turn that is not ours goes to its owner. */
interface Route<T> {
  /** Set when another sidecar forwarded the call here at this epoch: it is never sent on. */
  forwardedEpoch: number | undefined;
  /** What a forwarded call that this sidecar does not own answers. */
  notOwner: (epoch: number) => T;
  /** Runs the turn on its owner. */
  remote: (owner: RemoteOwner) => Promise<T | NotOwner>;
}

export interface InvokeRequest {
  type: string;
  id: string;
  method: string;
  body: Buffer;
  /** Headers (or gRPC metadata) for the app, the reentrancy id among them. */
  headers: Record<string, string>;
  /** The query string with its `?`, or "". */
  query: string;
}

export interface ReminderRequest extends ActorSchedule {
  failurePolicy?: FailurePolicy | undefined;
  /** Default true: registering a reminder again replaces it. */
  overwrite?: boolean | undefined;
}

export interface TimerRequest extends ActorSchedule {
  callback?: string | undefined;
}

/** The answer of a forwarded call this sidecar does not own: the caller looks up again. */
function notOwnerAnswer(epoch: number): AppResponse {
  return {
    status: 409,
    headers: { [NOT_OWNER_HEADER]: String(epoch), "content-type": "application/json" },
    body: Buffer.from(
      JSON.stringify({
        errorCode: "ERR_ACTOR_INVOKE_METHOD",
        message: `this sidecar does not own the actor (placement epoch ${epoch})`,
      }),
    ),
  };
}

function headerValue(headers: Record<string, string>, name: string): string | undefined {
  const lower = name.toLowerCase();
  for (const [k, v] of Object.entries(headers)) if (k.toLowerCase() === lower) return v;
  return undefined;
}

/**
 * The virtual actor runtime of one sidecar: activation on first use, one turn at a time per
 * actor (reentrant chains by `Dapr-Reentrancy-Id`), idle deactivation, timers living with the
 * activation, and reminders kept durably by the scheduler. Every turn first asks the placement
 * who owns the actor, so a distributed placement slots in without changing the turn rules.
 */
export class ActorRuntime {
  readonly #o: ActorRuntimeOptions;
  readonly #actors = new Map<string, Activation>();
  #types = new Map<string, ActorTypeConfig>();
  #ready: Promise<void>;
  #markReady!: () => void;
  #status: "INITIALIZING" | "RUNNING" | "DISABLED" = "INITIALIZING";
  readonly #stopReminders: (() => void)[] = [];
  #closed = false;

  constructor(options: ActorRuntimeOptions) {
    this.#o = options;
    this.#ready = new Promise<void>((resolve) => {
      this.#markReady = resolve;
    });
    this.#stopReminders.push(options.placement.onChange(() => this.#rebalance()));
  }

  /**
   * Ownership moved (a sidecar joined or left): actors this sidecar no longer owns are
   * deactivated, after their turn in progress when the type drains rebalanced actors
   * (drainRebalancedActors, up to drainOngoingCallTimeout), else at once.
   */
  async #rebalance(): Promise<void> {
    await Promise.all(
      [...this.#actors.values()]
        .filter((a) => !a.deactivated && !this.#o.placement.stillOwner(a.type, a.id, a.epoch))
        .map((a) => {
          const config = this.#types.get(a.type);
          if (!config) return Promise.resolve();
          return this.#deactivate(a, config, config.drainRebalancedActors ? undefined : 0);
        }),
    );
  }

  /** Reads the app's `GET /dapr/config`, hosts its types and starts firing their reminders. */
  async start(signal: AbortSignal): Promise<void> {
    try {
      const body = this.#o.app ? await this.#o.app.config(signal) : undefined;
      this.#types = body === undefined ? new Map() : parseActorConfig(body, this.#o.logger);
      await this.#o.placement.host([...this.#types.keys()]);
      this.#status = this.#types.size > 0 ? "RUNNING" : "DISABLED";
      if (this.#types.size > 0) {
        this.#o.logger.info("hosting actor types", { types: [...this.#types.keys()] });
      }
      const scheduler = this.#o.scheduler;
      if (scheduler && !this.#closed) {
        const trigger = this.#reminderTrigger(scheduler.triggerTimeoutMs);
        for (const type of this.#types.keys()) {
          this.#stopReminders.push(
            scheduler.handle(reminderPrefix(this.#o.namespace, type), (t, s) =>
              this.#o.track(() => trigger(t, s)),
            ),
          );
        }
      }
    } catch (error) {
      this.#status = "DISABLED";
      if (!signal.aborted) {
        this.#o.logger.error(
          "cannot read the app's actor config (GET /dapr/config); no actors hosted",
          {
            error: errorMessage(error),
          },
        );
      }
    } finally {
      this.#markReady();
    }
  }

  /** Resolves once the hosted types are known (daprd's actor readiness check). */
  ready(): Promise<void> {
    return this.#ready;
  }

  /**
   * Waits for the hosted types, at most READY_WAIT_MS: a call arriving while the app is still
   * starting waits for it rather than failing, but never hangs on an app that does not come.
   */
  async #whenReady(): Promise<void> {
    if (this.#status !== "INITIALIZING") return;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      this.#ready,
      new Promise<void>((resolve) => {
        timer = setTimeout(resolve, READY_WAIT_MS);
      }),
    ]);
    clearTimeout(timer);
  }

  /** For the metadata API. */
  status(): {
    runtimeStatus: string;
    hostReady: boolean;
    placement: string;
    activeActors: { type: string; count: number }[];
  } {
    const counts = new Map<string, number>([...this.#types.keys()].map((t) => [t, 0]));
    for (const a of this.#actors.values()) {
      if (!a.deactivated) counts.set(a.type, (counts.get(a.type) ?? 0) + 1);
    }
    return {
      runtimeStatus: this.#status,
      hostReady: this.#status === "RUNNING",
      placement: this.#o.placement.describe(),
      activeActors: [...counts].map(([type, count]) => ({ type, count })),
    };
  }

  hosts(type: string): boolean {
    return this.#types.has(type);
  }

  // ---- Turns ----

  /** The live activation of `type/id`, waiting out a deactivation in progress. */
  async #activation(type: string, id: string, epoch: number): Promise<Activation> {
    const key = `${type}||${id}`;
    for (;;) {
      const found = this.#actors.get(key);
      if (!found) break;
      if (!found.deactivated) return found;
      await found.gone;
    }
    let markGone!: () => void;
    const gone = new Promise<void>((resolve) => {
      markGone = resolve;
    });
    const activation: Activation = {
      type,
      id,
      key,
      epoch,
      lock: new TurnLock(),
      timers: new Map(),
      busy: 0,
      idle: undefined,
      deactivated: false,
      gone,
      markGone,
    };
    this.#actors.set(key, activation);
    return activation;
  }

  /**
   * Runs `fn` as one turn of `type/id`, activating the actor when needed. `reentrancyId` joins a
   * chain already in the actor (where the type allows reentrancy). Throws ApiErrors.
   */
  async #turn<T>(
    type: string,
    id: string,
    reentrancyId: string | undefined,
    signal: AbortSignal | undefined,
    fn: (activation: Activation, headers: Record<string, string>) => Promise<T>,
    route?: Route<T>,
  ): Promise<T> {
    if (this.#closed) throw apiError("ACTOR_RUNTIME_CLOSED");
    const placement = this.#o.placement;
    // The caller saw a newer membership than ours: catch up before deciding who owns it.
    if (route?.forwardedEpoch !== undefined) await placement.sync?.(route.forwardedEpoch);
    let forwards = 0;
    let settled = false;
    for (;;) {
      const owner = placement.lookup(type, id);
      const config = this.#types.get(type);
      if (owner.kind === "none" || (owner.kind === "local" && !config)) {
        throw apiError("ACTOR_INVOKE", { error: `did not find address for actor ${type}||${id}` });
      }
      if (owner.kind === "remote") {
        if (!route || !this.#o.forwarder) {
          throw apiError("ACTOR_INVOKE", {
            error: `actor ${type}||${id} is owned by the sidecar of ${owner.appId}; it cannot be forwarded there`,
          });
        }
        // One hop only: the two sidecars disagree, and the caller looks up again.
        if (route.forwardedEpoch !== undefined) return route.notOwner(owner.epoch);
        if (forwards++ >= MAX_FORWARDS) {
          throw apiError("ACTOR_INVOKE", {
            error: `actor ${type}||${id}: its owner kept moving or could not be reached`,
          });
        }
        let answer: T | NotOwner;
        try {
          answer = await route.remote(owner);
        } catch (error) {
          // Never reached: wait for the membership to drop it (its lease runs out), then look
          // again; an owner still listed after that is really unreachable. Any other failure
          // may have run the turn, so it is not sent again.
          if (error instanceof OwnerUnreachable && placement.changed) {
            await placement.changed(owner.epoch, signal);
            const now = placement.lookup(type, id);
            if (signal?.aborted || (now.kind === "remote" && now.epoch === owner.epoch)) {
              throw error;
            }
            continue;
          }
          throw error;
        }
        if (!(answer instanceof NotOwner)) return answer;
        if (answer.epoch > owner.epoch) await placement.sync?.(answer.epoch);
        else await placement.changed?.(owner.epoch, AbortSignal.timeout(250));
        continue;
      }
      // A fresh activation of an actor that moved here waits for its old owner to let go.
      if (!settled && placement.settled && !this.#actors.has(`${type}||${id}`)) {
        settled = true;
        const c = config as ActorTypeConfig;
        const bound = AbortSignal.timeout(c.drainOngoingCallTimeoutMs + 2000);
        const waited = await placement.settled(
          type,
          id,
          owner.epoch,
          signal ? AbortSignal.any([signal, bound]) : bound,
        );
        if (waited) continue;
      }
      const activation = await this.#activation(type, id, owner.epoch);
      if (!placement.stillOwner(type, id, activation.epoch)) {
        // Activated under an older ownership: it goes, and the call runs on a fresh activation.
        const c = config as ActorTypeConfig;
        await this.#deactivate(activation, c, c.drainRebalancedActors ? undefined : 0);
        continue;
      }
      const ran = await this.#turnOn(
        activation,
        config as ActorTypeConfig,
        reentrancyId,
        signal,
        fn,
      );
      if (ran.ran) return ran.value;
    }
  }

  /** One turn on this activation; `ran: false` when it was deactivated while we waited. */
  async #turnOn<T>(
    activation: Activation,
    config: ActorTypeConfig,
    reentrancyId: string | undefined,
    signal: AbortSignal | undefined,
    fn: (activation: Activation, headers: Record<string, string>) => Promise<T>,
  ): Promise<{ ran: true; value: T } | { ran: false }> {
    const { reentrancy } = config;
    const chain = reentrancy.enabled ? (reentrancyId ?? randomUUID()) : undefined;
    activation.busy++;
    clearTimeout(activation.idle);
    let release: () => void;
    try {
      release = await activation.lock.acquire(
        chain === undefined ? undefined : { id: chain, maxStackDepth: reentrancy.maxStackDepth },
        signal,
      );
    } catch (error) {
      activation.busy--;
      this.#armIdle(activation, config);
      if (error instanceof StackDepthError)
        throw apiError("ACTOR_INVOKE", { error: error.message });
      throw error;
    }
    try {
      if (activation.deactivated) return { ran: false };
      if (!this.#o.placement.stillOwner(activation.type, activation.id, activation.epoch)) {
        throw apiError("ACTOR_INVOKE", {
          error: `actor ${activation.key} moved to another sidecar during the call`,
        });
      }
      const headers: Record<string, string> =
        chain === undefined ? {} : { [REENTRANCY_HEADER]: chain };
      if (this.#o.placement.fences) headers[EPOCH_HEADER] = String(activation.epoch);
      return { ran: true, value: await fn(activation, headers) };
    } finally {
      release();
      activation.busy--;
      this.#armIdle(activation, config);
    }
  }

  #armIdle(activation: Activation, config: ActorTypeConfig): void {
    clearTimeout(activation.idle);
    if (activation.busy > 0 || activation.deactivated || this.#closed) return;
    activation.idle = setTimeout(() => {
      if (activation.busy === 0) void this.#deactivate(activation, config);
    }, config.idleTimeoutMs);
    activation.idle.unref();
  }

  /**
   * Deactivates once its turn in progress (if any) is over, waiting at most the type's
   * drainOngoingCallTimeout: timers stop, the app gets `DELETE /actors/{type}/{id}`.
   */
  async #deactivate(
    activation: Activation,
    config: ActorTypeConfig,
    waitMs = config.drainOngoingCallTimeoutMs,
  ): Promise<void> {
    if (activation.deactivated) return;
    activation.busy++;
    const release = await activation.lock
      .acquire(undefined, AbortSignal.timeout(waitMs))
      .catch(() => undefined);
    activation.busy--;
    if (activation.deactivated) {
      release?.();
      return;
    }
    activation.deactivated = true;
    clearTimeout(activation.idle);
    for (const timer of activation.timers.values()) timer.stop();
    activation.timers.clear();
    try {
      const answer = await this.#o.app?.deactivate({
        type: activation.type,
        id: activation.id,
        timeoutMs: Math.min(this.#o.callTimeoutMs, 10_000),
      });
      if (answer && (answer.status < 200 || answer.status >= 300)) {
        this.#o.logger.debug("the app answered the actor deactivation with an error", {
          actor: activation.key,
          status: answer.status,
        });
      }
    } catch (error) {
      this.#o.logger.debug("cannot tell the app of an actor deactivation", {
        actor: activation.key,
        error: errorMessage(error),
      });
    } finally {
      this.#actors.delete(activation.key);
      activation.markGone();
      release?.();
    }
  }

  // ---- Methods ----

  /** Calls an actor method; resolves with the app's answer, errors included (as daprd). */
  async invoke(request: InvokeRequest): Promise<AppResponse> {
    await this.#whenReady();
    const reentrancyId = headerValue(request.headers, REENTRANCY_HEADER);
    const forwarded = headerValue(request.headers, FORWARDED_HEADER);
    const route: Route<AppResponse> = {
      forwardedEpoch: forwarded === undefined ? undefined : Number(forwarded) || 0,
      notOwner: notOwnerAnswer,
      remote: (owner) =>
        (this.#o.forwarder as ActorForwarder).invoke(owner, request, this.#o.callTimeoutMs),
    };
    const turn = async (_a: Activation, extra: Record<string, string>) => {
      const app = this.#app();
      // As daprd's app channel: a call that names no content type carries JSON.
      const headers: Record<string, string> = { "content-type": "application/json" };
      for (const [k, v] of Object.entries(request.headers)) {
        const name = k.toLowerCase();
        if (name !== REENTRANCY_HEADER.toLowerCase() && name !== FORWARDED_HEADER) {
          headers[name] = v;
        }
      }
      try {
        return await app.method({
          type: request.type,
          id: request.id,
          method: request.method,
          query: request.query,
          body: request.body,
          headers: { ...headers, ...extra },
          timeoutMs: this.#o.callTimeoutMs,
        });
      } catch (error) {
        throw apiError("ACTOR_INVOKE", { error: errorMessage(error) }, { cause: error });
      }
    };
    try {
      return await this.#turn(request.type, request.id, reentrancyId, undefined, turn, route);
    } catch (error) {
      // A forwarded call that failed on the way (unreachable, reset, timed out) is daprd's
      // ERR_ACTOR_INVOKE_METHOD, as any other failure of the call.
      if (error instanceof ApiError) throw error;
      throw apiError("ACTOR_INVOKE", { error: errorMessage(error) }, { cause: error });
    }
  }

  #app(): ActorApp {
    if (!this.#o.app) throw apiError("ACTOR_INVOKE", { error: "app channel is not initialized" });
    return this.#o.app;
  }

  // ---- State ----

  #state(): ActorState {
    const state = this.#o.state();
    if (!state) throw apiError("ACTOR_RUNTIME_NOT_FOUND");
    return state;
  }

  /** As daprd's IsActorHosted: the type is hosted and this sidecar owns the actor. */
  #requireHosted(type: string, id: string): void {
    if (!this.#types.has(type) || this.#o.placement.lookup(type, id).kind !== "local") {
      throw apiError("ACTOR_INSTANCE_MISSING");
    }
  }

  async getState(type: string, id: string, key: string) {
    await this.#whenReady();
    const state = this.#state();
    this.#requireHosted(type, id);
    return state.get(type, id, key);
  }

  async transact(
    type: string,
    id: string,
    operations: readonly ActorStateOperation[],
  ): Promise<void> {
    await this.#whenReady();
    const state = this.#state();
    this.#requireHosted(type, id);
    await state.transact(type, id, operations);
  }

  // ---- Timers ----

  async createTimer(request: TimerRequest): Promise<void> {
    await this.#whenReady();
    const fail = (error: string) => apiError("ACTOR_TIMER_CREATE", { error });
    const key = `${request.type}||${request.id}`;
    const config = this.#types.get(request.type);
    const activation = this.#actors.get(key);
    if (!config || !activation || activation.deactivated) {
      throw fail(`can't create timer for actor ${key}: actor not activated`);
    }
    let spec: TimerSpec;
    try {
      spec = {
        name: request.name,
        callback: request.callback ?? "",
        data: request.data,
        dueTime: request.dueTime ?? "",
        period: request.period ?? "",
        timing: timingOf(request, "timer", `${key}||${request.name}`, Date.now()),
      };
    } catch (error) {
      throw fail((error as Error).message);
    }
    activation.timers.get(request.name)?.stop();
    const timer = new ActorTimer(spec, (s) => this.#fireTimer(activation, config, s));
    activation.timers.set(request.name, timer);
  }

  deleteTimer(type: string, id: string, name: string): void {
    const activation = this.#actors.get(`${type}||${id}`);
    activation?.timers.get(name)?.stop();
    activation?.timers.delete(name);
  }

  async #fireTimer(
    activation: Activation,
    config: ActorTypeConfig,
    spec: TimerSpec,
  ): Promise<void> {
    const app = this.#o.app;
    if (!app) return;
    await this.#o
      .track(() =>
        this.#turnOn(activation, config, undefined, undefined, async (_a, headers) => {
          const answer = await app.timer({
            type: activation.type,
            id: activation.id,
            name: spec.name,
            body: timerCallbackBody(spec),
            headers,
            timeoutMs: this.#o.callTimeoutMs,
          });
          if (answer.status < 200 || answer.status >= 300) {
            this.#o.logger.warn("the app failed an actor timer", {
              actor: activation.key,
              timer: spec.name,
              status: answer.status,
            });
          }
        }),
      )
      .catch((error: unknown) =>
        this.#o.logger.warn("an actor timer could not fire", {
          actor: activation.key,
          timer: spec.name,
          error: errorMessage(error),
        }),
      );
    const timer = activation.timers.get(spec.name);
    if (timer?.done) activation.timers.delete(spec.name);
  }

  // ---- Reminders ----

  #scheduler(type: string): Scheduler {
    if (!this.#types.has(type)) throw apiError("ACTOR_REMINDER_NON_HOSTED");
    if (!this.#o.scheduler) {
      throw apiError("ACTOR_REMINDER_CREATE", { error: "the sidecar has no scheduler" });
    }
    return this.#o.scheduler;
  }

  async createReminder(request: ReminderRequest): Promise<void> {
    await this.#whenReady();
    const scheduler = this.#scheduler(request.type);
    const reminder: Reminder = {
      type: request.type,
      id: request.id,
      name: request.name,
      ...(request.dueTime ? { dueTime: request.dueTime } : {}),
      ...(request.period ? { period: request.period } : {}),
      ...(request.ttl ? { ttl: request.ttl } : {}),
      ...(request.data !== undefined ? { data: request.data } : {}),
      ...(request.failurePolicy ? { failurePolicy: request.failurePolicy } : {}),
      registeredAt: Date.now(),
    };
    let spec: ReturnType<typeof reminderSpec>["spec"];
    try {
      spec = reminderSpec(reminder).spec;
    } catch (error) {
      throw apiError("ACTOR_REMINDER_CREATE", { error: (error as Error).message });
    }
    try {
      await scheduler.schedule(
        reminderKey(this.#o.namespace, reminder),
        spec,
        encodeReminder(reminder),
        {
          overwrite: request.overwrite !== false,
        },
      );
    } catch (error) {
      if (error instanceof JobExistsError)
        throw apiError("ACTOR_REMINDER_EXISTS", { name: request.name });
      throw apiError("ACTOR_REMINDER_CREATE", { error: errorMessage(error) }, { cause: error });
    }
  }

  async getReminder(type: string, id: string, name: string): Promise<Reminder & { dueAt: number }> {
    await this.#whenReady();
    const scheduler = this.#scheduler(type);
    let job: Awaited<ReturnType<Scheduler["get"]>>;
    try {
      job = await scheduler.get(reminderKey(this.#o.namespace, { type, id, name }));
    } catch (error) {
      throw apiError("ACTOR_REMINDER_GET", { error: errorMessage(error) }, { cause: error });
    }
    if (!job) throw apiError("ACTOR_REMINDER_NOT_FOUND", { name });
    return { ...decodeReminder(job.payload), dueAt: job.dueAt };
  }

  async deleteReminder(type: string, id: string, name: string): Promise<void> {
    await this.#whenReady();
    const scheduler = this.#scheduler(type);
    try {
      await scheduler.delete(reminderKey(this.#o.namespace, { type, id, name }));
    } catch (error) {
      throw apiError("ACTOR_REMINDER_DELETE", { error: errorMessage(error) }, { cause: error });
    }
  }

  /** The reminders of a type, or of one actor of it, with their next tick. */
  async listReminders(type: string, id?: string): Promise<(Reminder & { dueAt: number })[]> {
    await this.#whenReady();
    const scheduler = this.#scheduler(type);
    const prefix = reminderPrefix(this.#o.namespace, type) + (id === undefined ? "" : `${id}||`);
    try {
      return (await scheduler.list(prefix)).map((job) => ({
        ...decodeReminder(job.payload),
        dueAt: job.dueAt,
      }));
    } catch (error) {
      throw apiError("ACTOR_REMINDER_GET", { error: errorMessage(error) }, { cause: error });
    }
  }

  /** Deletes the reminders of a type, or of one actor of it. */
  async deleteReminders(type: string, id?: string): Promise<void> {
    await this.#whenReady();
    const scheduler = this.#scheduler(type);
    const prefix = reminderPrefix(this.#o.namespace, type) + (id === undefined ? "" : `${id}||`);
    try {
      await scheduler.deleteByPrefix(prefix);
    } catch (error) {
      throw apiError("ACTOR_REMINDER_DELETE", { error: errorMessage(error) }, { cause: error });
    }
  }

  /**
   * Fires a due reminder as a turn of its actor, activating it if needed. A tick counts as done
   * only when the app answered 2xx; otherwise (app failure, timeout, the turn never came) the
   * scheduler retries it by the reminder's failure policy, and its lease makes it fire at least
   * once even if this sidecar dies in the middle.
   */
  #reminderTrigger(timeoutMs: number): TriggerHandler {
    return async (trigger, stopping) => {
      const reminder = decodeReminder(trigger.payload);
      const signal = AbortSignal.any([stopping, AbortSignal.timeout(timeoutMs)]);
      return this.#fireReminder(reminder, trigger.attempt, timeoutMs, signal, undefined);
    };
  }

  /**
   * A reminder tick another sidecar's scheduler claimed and forwarded here, as the owner by its
   * membership at `epoch`: true when the app took it, NotOwner when this sidecar is not the owner.
   */
  async fireForwardedReminder(
    reminder: Reminder,
    epoch: number,
    timeoutMs: number,
    signal: AbortSignal,
  ): Promise<boolean | NotOwner> {
    await this.#whenReady();
    return this.#fireReminder(reminder, 0, timeoutMs, signal, epoch);
  }

  /**
   * One tick of a reminder as a turn of its actor, here or (not owned here) on its owner: a
   * reminder's tick is claimed by whichever sidecar hosting the type leases it first, and the
   * turn always runs on the owner.
   */
  #fireReminder<R extends boolean | NotOwner>(
    reminder: Reminder,
    attempt: number,
    timeoutMs: number,
    signal: AbortSignal,
    forwardedEpoch: number | undefined,
  ): Promise<R> {
    const route: Route<R> = {
      forwardedEpoch,
      notOwner: (epoch) => new NotOwner(epoch) as R,
      remote: async (owner) =>
        (await (this.#o.forwarder as ActorForwarder).reminder(
          owner,
          reminder,
          timeoutMs,
          signal,
        )) as R | NotOwner,
    };
    return this.#turn(
      reminder.type,
      reminder.id,
      undefined,
      signal,
      async (_a, headers) => {
        const app = this.#app();
        const answer = await app.reminder({
          type: reminder.type,
          id: reminder.id,
          name: reminder.name,
          body: reminderCallbackBody(reminder),
          headers,
          timeoutMs,
          signal,
        });
        if (answer.status >= 200 && answer.status < 300) return true as R;
        this.#o.logger.warn("the app failed an actor reminder; it is retried", {
          actor: `${reminder.type}||${reminder.id}`,
          reminder: reminder.name,
          status: answer.status,
          attempt,
        });
        return false as R;
      },
      route,
    );
  }

  // ---- Stop ----

  /**
   * Stops timers and reminder firing, then deactivates every actor (each told to the app),
   * waiting at most `waitMs` for a turn in progress.
   */
  async stop(waitMs: number): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#markReady();
    for (const stop of this.#stopReminders.splice(0)) stop();
    const active = [...this.#actors.values()];
    await Promise.all(
      active.map((a) => {
        const config = this.#types.get(a.type);
        return config
          ? this.#deactivate(a, config, Math.min(waitMs, config.drainOngoingCallTimeoutMs))
          : Promise.resolve();
      }),
    );
    await this.#o.placement.close();
  }
}
