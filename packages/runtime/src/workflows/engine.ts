import { randomUUID } from "node:crypto";
import { ETagError, errorMessage, type Logger, silentLogger } from "@outrig/core";
import { apiError } from "../api/errors.ts";
import type { ActivityResponse__Output } from "../grpc/generated/ActivityResponse.ts";
import type { OrchestratorResponse__Output } from "../grpc/generated/OrchestratorResponse.ts";
import type { WorkItem } from "../grpc/generated/WorkItem.ts";
import { JobExistsError, type Scheduler, type Trigger } from "../scheduler/scheduler.ts";
import { keyOf, type Pending, type Worker, WorkQueue } from "./dispatch.ts";
import {
  awaitsResult,
  event,
  type HistoryEvent,
  millisOf,
  pendingActivities,
  pendingChildren,
  pendingTimers,
  type Status,
  stringValue,
  type TaskFailureDetails,
  TERMINAL,
  timestamp,
} from "./history.ts";
import type { Commit, InstanceMeta, InstanceStore, StoredInstance } from "./instance-store.ts";
import {
  ACTIVE_JOB,
  badInstanceId,
  instanceJobPrefix,
  parseJobKey,
  START_JOB,
  timerJob,
} from "./keys.ts";
import { type Effect, planTermination, planTurn } from "./turn.ts";

export interface WorkflowEngineOptions {
  store: InstanceStore;
  scheduler: Scheduler;
  /** The scheduler prefix of this app's workflow jobs (timers, delayed starts). */
  jobPrefix: string;
  /** The scheduler prefix of the instances' ownership leases (one job per running instance). */
  leasePrefix: string;
  /** The scheduler prefix of wake-ups for a sidecar that owns an instance another one changed. */
  wakePrefix: string;
  /** Instances this sidecar drives at most; more are left to the other sidecars. Default 10,000. */
  maxInstances?: number;
  logger?: Logger;
  /** A turn a worker took and did not answer within this is sent again. Default 60 s. */
  turnTimeoutMs?: number;
  /**
   * Work items one worker stream holds unanswered at most. The JS SDK runs 10 at once and queues
   * 100, dropping the rest silently, so more than that would be lost work. Default 50.
   */
  maxInFlightPerWorker?: number;
  /**
   * Orchestration turns and activities this sidecar has out at once across its workers, as the
   * Configuration's `workflow.maxConcurrentWorkflowInvocations` / `maxConcurrentActivityInvocations`
   * say; more wait in the queue. Unlimited when absent.
   */
  maxConcurrent?: { orchestration?: number | undefined; activity?: number | undefined };
}

export interface StartRequest {
  name: string;
  instanceId?: string | undefined;
  input?: string | undefined;
  /** Epoch ms: the first turn waits for it. */
  startAt?: number | undefined;
  parent?: InstanceMeta["parent"];
}

/** One connected GetWorkItems stream. */
export interface WorkerConnection {
  /** Ends the engine's side: its unanswered work items go to the other workers. */
  close(): void;
}

interface Turn {
  worker: Worker;
  /** How many inbox entries the worker was given (later ones stay for the next turn). */
  consumed: number;
  newEvents: HistoryEvent[];
  timer: NodeJS.Timeout;
}

interface Live extends StoredInstance {
  turn?: Turn | undefined;
  /** Ends this sidecar's ownership lease: `true` once the instance finished. */
  release?: ((finished: boolean) => void) | undefined;
}

/** The ownership lease job: due at once, and a tick given up is claimable again in a second. */
const leaseSpec = () =>
  ({
    dueTime: new Date().toISOString(),
    failurePolicy: { constant: { interval: "1s" } },
  }) as const;

/** A wait for a commit polls the store this often when another sidecar owns the instance. */
const FOREIGN_POLL_MS = 250;

const isConflict = (error: unknown): boolean =>
  error instanceof ETagError || (error as { name?: string }).name === "ETagError";

/**
 * The durable workflow engine behind TaskHubSidecarService and the HTTP workflow API. Each
 * instance is an append-only history plus an inbox of events not yet shown to the workflow; it
 * takes one turn at a time (a worker replays history + inbox and answers with actions), and each
 * turn is committed in one store transaction (history append, inbox shift, metadata under its
 * ETag). What a turn starts (activities, timers, children, events) is recorded in history first
 * and done after the commit; whatever a crash interrupted is found again in history when the
 * instance is loaded (pending activities are sent again, timers and children ensured).
 *
 * Sidecars of one app share the instances: a running instance has an ownership lease, a scheduler
 * job whose tick the owning sidecar holds (its trigger runs for as long as it owns the instance,
 * the scheduler renews the lease). Only the owner dispatches turns and activities, from memory
 * (no store read per event). A sidecar that dies stops renewing; once the lease runs out another
 * claims the tick and resumes the instance from the store. Every commit is fenced by the stored
 * ETag, so a stale owner's commit fails and is dropped; a change made by a sidecar that does not
 * own the instance (an event raised through it, a timer it fired) is committed under the ETag too
 * and the owner is woken to reload.
 */
export class WorkflowEngine {
  readonly #store: InstanceStore;
  readonly #scheduler: Scheduler;
  readonly #prefix: string;
  readonly #leasePrefix: string;
  readonly #wakePrefix: string;
  readonly #maxInstances: number;
  readonly #me: string;
  readonly #logger: Logger;
  readonly #turnTimeoutMs: number;
  readonly #work: WorkQueue;
  /** The instances this sidecar owns (holds the lease of). */
  readonly #instances = new Map<string, Live>();
  /** Instances started here, not yet claimed: the claim takes them without a store read. */
  readonly #fresh = new Map<string, Live>();
  readonly #chains = new Map<string, Promise<unknown>>();
  readonly #waiters = new Map<string, Set<() => void>>();
  #stopJobs: (() => void)[] = [];
  /** Leases claimed whose instance is being loaded: they count against maxInstances. */
  #taking = 0;
  #closed = false;

  constructor(options: WorkflowEngineOptions) {
    this.#store = options.store;
    this.#scheduler = options.scheduler;
    this.#prefix = options.jobPrefix;
    this.#leasePrefix = options.leasePrefix;
    this.#me = options.scheduler.owner;
    this.#wakePrefix = `${options.wakePrefix}${this.#me}||`;
    this.#maxInstances = options.maxInstances ?? 10_000;
    this.#logger = options.logger ?? silentLogger;
    this.#turnTimeoutMs = options.turnTimeoutMs ?? 60_000;
    this.#work = new WorkQueue({
      maxInFlightPerWorker: options.maxInFlightPerWorker ?? 50,
      maxConcurrent: options.maxConcurrent ?? {},
      dispatch: (pending, worker) =>
        pending.kind === "orchestration"
          ? this.#dispatchTurn(pending, worker)
          : this.#dispatchActivity(pending, worker),
      closed: () => this.#closed,
    });
  }

  /**
   * Takes the timers, and the ownership leases: every running instance no live sidecar owns is
   * claimed and resumed (crash safety).
   */
  async start(): Promise<void> {
    this.#stopJobs = [
      this.#scheduler.handle(this.#prefix, (trigger) => this.#onJob(trigger)),
      this.#scheduler.handle(this.#leasePrefix, (t, signal) => this.#onLease(t, signal), {
        held: true,
      }),
      this.#scheduler.handle(this.#wakePrefix, (t) => this.#onWake(t)),
    ];
  }

  /** Stops serving: worker streams end, waiters are released, turns are left for a restart. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const stop of this.#stopJobs) stop();
    // The held leases are released when the scheduler closes (its triggers abort).
    for (const inst of this.#instances.values()) if (inst.turn) clearTimeout(inst.turn.timer);
    for (const worker of this.#work.workers) worker.end();
    this.#work.workers.clear();
    for (const set of this.#waiters.values()) for (const wake of set) wake();
    this.#waiters.clear();
  }

  get closed(): boolean {
    return this.#closed;
  }

  // --- management -------------------------------------------------------------------------

  async startInstance(request: StartRequest): Promise<string> {
    const id = request.instanceId || randomUUID().replaceAll("-", "");
    const bad = badInstanceId(id);
    if (bad) throw apiError("MALFORMED_REQUEST", { detail: bad });
    return this.#serial(id, async () => {
      if (this.#instances.has(id) || this.#fresh.has(id) || (await this.#store.load(id))) {
        throw apiError("WORKFLOW_EXISTS", { name: request.name, id });
      }
      const now = Date.now();
      const executionId = randomUUID();
      const started = event("executionStarted", {
        name: request.name,
        input: stringValue(request.input),
        orchestrationInstance: { instanceId: id, executionId: { value: executionId } },
        ...(request.parent
          ? {
              parentInstance: {
                taskScheduledId: request.parent.taskScheduledId,
                name: { value: request.parent.name },
                orchestrationInstance: { instanceId: request.parent.instanceId },
              },
            }
          : {}),
        ...(request.startAt ? { scheduledStartTimestamp: timestamp(request.startAt) } : {}),
      });
      const meta: InstanceMeta = {
        name: request.name,
        executionId,
        status: "ORCHESTRATION_STATUS_PENDING",
        createdAt: now,
        updatedAt: now,
        input: request.input,
        parent: request.parent,
        historyLength: 0,
        inboxLength: 1,
        generation: 1,
        owner: this.#me,
      };
      // The lease first: a crash before the state is written leaves a lease to discard, never a
      // running instance nobody resumes. Whichever sidecar claims it drives the instance.
      await this.#scheduler.schedule(this.#leaseKey(id), leaseSpec(), new Uint8Array(), {
        overwrite: true,
      });
      const inst: Live = { id, meta, etag: undefined, history: [], inbox: [] };
      await this.#commit(inst, {
        meta,
        history: [],
        keptHistory: 0,
        inbox: [started],
        keptInbox: 0,
      }).catch((error: unknown) => {
        // Another sidecar created the same instance id since the check above.
        throw isConflict(error) ? apiError("WORKFLOW_EXISTS", { name: request.name, id }) : error;
      });
      this.#fresh.set(id, inst);
      // Our own claim comes within milliseconds; an entry this old means another sidecar won.
      setTimeout(() => {
        if (this.#fresh.get(id) === inst) this.#fresh.delete(id);
      }, 5000).unref();
      if (request.startAt && request.startAt > now) {
        await this.#scheduler.schedule(
          this.#jobKey(id, START_JOB),
          { dueTime: new Date(request.startAt).toISOString() },
          new Uint8Array(),
          { overwrite: true },
        );
      }
      return id;
    });
  }

  /** The instance's summary, or undefined when there is none. */
  async getInstance(id: string): Promise<InstanceMeta | undefined> {
    return this.#serial(id, async () => (await this.#peek(id))?.meta);
  }

  /** The instance's history as committed (no pending inbox), or undefined when there is none. */
  async getHistory(id: string): Promise<HistoryEvent[] | undefined> {
    return this.#serial(id, async () => (await this.#peek(id))?.history);
  }

  /** One page of this app's instance ids (ListInstanceIDs); the token is the store's. */
  async listInstanceIds(page: {
    pageSize?: number | undefined;
    continuationToken?: string | undefined;
  }): Promise<{ ids: string[]; continuationToken?: string | undefined }> {
    return this.#store.listIds(page);
  }

  /** Resolves once `until` holds for the instance (or it is gone, or `signal` aborts). */
  async waitFor(
    id: string,
    until: (meta: InstanceMeta) => boolean,
    signal: AbortSignal,
  ): Promise<InstanceMeta | undefined> {
    for (;;) {
      const meta = await this.getInstance(id);
      if (!meta || until(meta) || signal.aborted || this.#closed) return meta;
      await new Promise<void>((resolve) => {
        let set = this.#waiters.get(id);
        if (!set) {
          set = new Set();
          this.#waiters.set(id, set);
        }
        // Commits made here wake the waiter; another sidecar's are seen by polling the store.
        const poll = setInterval(() => {
          if (!this.#instances.has(id)) wake();
        }, FOREIGN_POLL_MS);
        const wake = (): void => {
          clearInterval(poll);
          set.delete(wake);
          signal.removeEventListener("abort", wake);
          resolve();
        };
        set.add(wake);
        signal.addEventListener("abort", wake, { once: true });
      });
    }
  }

  async raiseEvent(id: string, name: string, input: string | undefined): Promise<void> {
    await this.#toInbox(id, event("eventRaised", { name, input: stringValue(input) }));
  }

  async terminate(id: string, output: string | undefined, recursive: boolean): Promise<void> {
    await this.#toInbox(
      id,
      event("executionTerminated", { input: stringValue(output), recurse: recursive }),
    );
  }

  async suspend(id: string, reason: string | undefined): Promise<void> {
    await this.#toInbox(id, event("executionSuspended", { input: stringValue(reason) }));
  }

  async resume(id: string, reason: string | undefined): Promise<void> {
    await this.#toInbox(id, event("executionResumed", { input: stringValue(reason) }));
  }

  /** Deletes a finished instance (and its children, `recursive`); returns how many were deleted. */
  async purge(id: string, recursive = true): Promise<number> {
    const children = await this.#serial(id, async () => {
      const inst = await this.#peek(id);
      if (!inst) throw apiError("WORKFLOW_NOT_FOUND", { id });
      if (!TERMINAL.has(inst.meta.status)) {
        throw apiError("WORKFLOW_NOT_TERMINAL", { id, status: statusName(inst.meta.status) });
      }
      await this.#store.purge(id, inst.etag, inst.meta);
      this.#instances.delete(id);
      this.#fresh.delete(id);
      await this.#scheduler.deleteByPrefix(instanceJobPrefix(this.#prefix, id));
      await this.#scheduler.delete(this.#leaseKey(id));
      return inst.history.flatMap((e) => e.subOrchestrationInstanceCreated?.instanceId ?? []);
    });
    let count = 1;
    if (recursive) for (const child of children) count += await this.purge(child).catch(() => 0);
    return count;
  }

  // --- the worker protocol ----------------------------------------------------------------

  /** A worker's GetWorkItems stream: work items are written to it until it closes. */
  connect(send: (item: WorkItem) => void, end: () => void): WorkerConnection {
    const worker: Worker = { send, end, inFlight: new Map() };
    if (this.#closed) {
      end();
      return { close: () => undefined };
    }
    this.#work.workers.add(worker);
    this.#work.pump();
    return {
      close: () => {
        if (!this.#work.workers.delete(worker)) return;
        // What it held is given to the other workers (or the next one to connect).
        for (const pending of worker.inFlight.values()) {
          if (pending.kind === "orchestration") {
            const inst = this.#instances.get(pending.instanceId);
            if (inst?.turn?.worker === worker) {
              clearTimeout(inst.turn.timer);
              inst.turn = undefined;
            }
          }
          this.#work.enqueue(pending);
        }
        worker.inFlight.clear();
        this.#work.pump();
      },
    };
  }

  async completeOrchestration(response: OrchestratorResponse__Output): Promise<void> {
    const id = response.instanceId;
    await this.#serial(id, async () => {
      const inst = this.#instances.get(id);
      const turn = inst?.turn;
      if (!inst || !turn) {
        this.#work.forget(`o:${id}`);
        this.#logger.debug("workflow: an answer for no turn in flight; ignored", {
          instanceId: id,
        });
        return;
      }
      const scheduled = new Set(
        inst.history.filter((e) => !e.orchestratorStarted).map((e) => e.eventId ?? -1),
      );
      if (
        response.actions.some((a) => a.id >= 0 && scheduled.has(a.id) && !a.completeOrchestration)
      ) {
        // A late answer to an earlier turn (sent again after a timeout): its actions are in
        // history already.
        this.#logger.debug("workflow: a stale turn answer; ignored", { instanceId: id });
        return;
      }
      clearTimeout(turn.timer);
      turn.worker.inFlight.delete(`o:${id}`);
      // The turn stays set until its commit is in: no other turn is dispatched meanwhile.
      await this.#applyTurn(inst, turn, response).catch(async (error: unknown) => {
        inst.turn = undefined;
        // Another writer came first (or the store failed): start over from the store; the turn
        // is replayed, by us if we still own the instance.
        this.#logger.warn("workflow: committing a turn failed; the turn will run again", {
          instanceId: id,
          error: errorMessage(error),
        });
        await this.#reload(inst);
      });
    });
    this.#work.pump();
  }

  async completeActivity(response: ActivityResponse__Output): Promise<void> {
    const id = response.instanceId;
    const taskId = response.taskId;
    await this.#serial(id, async () => {
      this.#work.forget(`a:${id}#${taskId}`);
    });
    const result = response.failureDetails
      ? event("taskFailed", { taskScheduledId: taskId, failureDetails: response.failureDetails })
      : event("taskCompleted", { taskScheduledId: taskId, result: response.result });
    // A result already recorded (the activity ran twice) is not recorded again.
    await this.#deliver(id, (inst) =>
      awaitsResult(inst.history, inst.inbox, taskId) ? [result] : undefined,
    );
    this.#work.pump();
  }

  // --- turns ----------------------------------------------------------------------------

  async #applyTurn(inst: Live, turn: Turn, response: OrchestratorResponse__Output): Promise<void> {
    const plan = planTurn(inst, turn, response);
    for (const id of plan.unknownActions) {
      this.#logger.warn("workflow: an action of an unknown kind; ignored", {
        instanceId: inst.id,
        id,
      });
    }
    await this.#commit(inst, plan.commit);
    inst.turn = undefined;
    for (const effect of plan.effects) {
      try {
        await this.#carryOut(inst.id, effect);
      } catch (error) {
        this.#logger.warn(
          "workflow: a turn's follow-up failed; it is retried when the instance is resumed",
          {
            instanceId: inst.id,
            error: errorMessage(error),
          },
        );
      }
    }
    if (TERMINAL.has(plan.commit.meta.status)) await this.#finished(inst);
    else this.#kick(inst);
  }

  /** Does what a committed turn of instance `id` asked for. */
  async #carryOut(id: string, effect: Effect): Promise<void> {
    switch (effect.kind) {
      case "activity":
        this.#work.enqueue({
          kind: "activity",
          instanceId: id,
          executionId: effect.executionId,
          taskId: effect.taskId,
          name: effect.name,
          input: effect.input,
        });
        return;
      case "timer":
        return this.#ensureTimer(id, effect.executionId, effect.timerId, effect.fireAt);
      case "child":
        return this.#ensureChild(id, effect.parentName, effect.created);
      case "sendEvent":
        return this.raiseEvent(effect.target, effect.name, effect.data).catch((error: unknown) =>
          this.#logger.warn("workflow: an event to another instance was not delivered", {
            instanceId: id,
            target: effect.target,
            error: errorMessage(error),
          }),
        );
      case "terminate":
        return this.terminate(effect.instanceId, effect.reason, effect.recurse).catch(
          () => undefined,
        );
      case "clearTimers":
        await this.#scheduler.deleteByPrefix(`${instanceJobPrefix(this.#prefix, id)}timer-`);
        return;
    }
  }

  /** Ends the instance at once (no worker needed): the inbox holds an ExecutionTerminated. */
  async #terminateNow(inst: Live): Promise<void> {
    const plan = planTermination(inst);
    await this.#commit(inst, plan.commit);
    if (plan.recurse) {
      for (const child of plan.children)
        void this.terminate(child, plan.output, true).catch(() => undefined);
    }
    await this.#finished(inst);
  }

  /** After the last commit of an instance: its jobs go, its parent learns, waiters wake. */
  async #finished(inst: Live): Promise<void> {
    this.#instances.delete(inst.id);
    // The lease goes with the settlement of its tick (`true`: the one-shot is done), batched.
    inst.release?.(true);
    await this.#scheduler
      .deleteByPrefix(instanceJobPrefix(this.#prefix, inst.id))
      .catch((error: unknown) =>
        this.#logger.warn("workflow: deleting a finished instance's jobs failed", {
          instanceId: inst.id,
          error: errorMessage(error),
        }),
      );
    const parent = inst.meta.parent;
    if (parent) void this.#reportToParent(inst.id, inst.meta, parent);
  }

  #reportToParent(
    childId: string,
    meta: InstanceMeta,
    parent: NonNullable<InstanceMeta["parent"]>,
  ): Promise<void> {
    const outcome =
      meta.status === "ORCHESTRATION_STATUS_COMPLETED"
        ? event("subOrchestrationInstanceCompleted", {
            taskScheduledId: parent.taskScheduledId,
            result: stringValue(meta.output),
          })
        : event("subOrchestrationInstanceFailed", {
            taskScheduledId: parent.taskScheduledId,
            failureDetails: meta.failure ?? {
              errorType: "WorkflowTerminated",
              errorMessage: `child workflow ${childId} ended ${statusName(meta.status)}`,
            },
          });
    return this.#deliver(parent.instanceId, (p) =>
      pendingChildren(p.history, p.inbox).some((e) => e.eventId === parent.taskScheduledId)
        ? [outcome]
        : undefined,
    )
      .then(() => undefined)
      .catch((error: unknown) =>
        this.#logger.warn("workflow: reporting a child's outcome failed", {
          instanceId: childId,
          parent: parent.instanceId,
          error: errorMessage(error),
        }),
      );
  }

  async #ensureChild(parentId: string, parentName: string, created: HistoryEvent): Promise<void> {
    const sub = created.subOrchestrationInstanceCreated;
    if (!sub?.instanceId || !sub.name) return;
    const parent = {
      instanceId: parentId,
      taskScheduledId: created.eventId ?? -1,
      name: parentName,
    };
    try {
      await this.startInstance({
        name: sub.name,
        instanceId: sub.instanceId,
        input: sub.input?.value,
        parent,
      });
    } catch (error) {
      if ((error as { kind?: string }).kind !== "WORKFLOW_EXISTS") throw error;
      // Started before a crash: if it has finished meanwhile, its outcome is owed.
      const child = await this.getInstance(sub.instanceId);
      if (child && TERMINAL.has(child.status))
        await this.#reportToParent(sub.instanceId, child, parent);
    }
  }

  async #ensureTimer(
    id: string,
    executionId: string,
    timerId: number,
    fireAt: number,
  ): Promise<void> {
    try {
      await this.#scheduler.schedule(
        this.#jobKey(id, timerJob(timerId)),
        {
          dueTime: new Date(Math.max(fireAt, 0)).toISOString(),
          failurePolicy: { constant: { interval: "1s" } },
        },
        Buffer.from(JSON.stringify({ executionId, timerId, fireAt })),
      );
    } catch (error) {
      if (!(error instanceof JobExistsError)) throw error;
    }
  }

  async #onJob(trigger: Trigger): Promise<boolean> {
    const parsed = parseJobKey(this.#prefix, trigger.key);
    if (!parsed) return true;
    const [id, kind] = parsed;
    if (kind === ACTIVE_JOB) {
      // The running marker of an older version: it becomes an ownership lease.
      await this.#scheduler
        .schedule(this.#leaseKey(id), leaseSpec(), new Uint8Array())
        .catch((error: unknown) => {
          if (!(error instanceof JobExistsError)) throw error;
        });
      await this.#scheduler.delete(trigger.key);
      return true;
    }
    if (kind === START_JOB) {
      await this.#serial(id, async () => {
        const held = this.#instances.get(id);
        if (held) this.#kick(held);
        else {
          const inst = await this.#store.load(id);
          if (inst && !TERMINAL.has(inst.meta.status)) await this.#wakeOwner(inst);
        }
      });
    } else if (kind.startsWith("timer-")) {
      const t = JSON.parse(Buffer.from(trigger.payload).toString("utf8")) as {
        executionId: string;
        timerId: number;
        fireAt: number;
      };
      await this.#deliver(id, (inst) =>
        t.executionId === inst.meta.executionId &&
        pendingTimers(inst.history, inst.inbox).some((e) => e.eventId === t.timerId)
          ? [event("timerFired", { fireAt: timestamp(t.fireAt), timerId: t.timerId })]
          : undefined,
      );
    }
    this.#work.pump();
    return true;
  }

  // --- ownership ------------------------------------------------------------------------

  /**
   * A claimed ownership lease: the instance is driven here until it finishes (`true`), the
   * sidecar stops or the lease is lost (`signal`), or it cannot be taken (`false`: the tick is
   * claimable again in a second, by any sidecar).
   */
  #onLease(trigger: Trigger, signal: AbortSignal): Promise<boolean> {
    const id = trigger.key.slice(this.#leasePrefix.length);
    if (signal.aborted || this.#instances.size + this.#taking >= this.#maxInstances)
      return Promise.resolve(false);
    this.#taking++;
    return new Promise<boolean>((resolve) => {
      let over = false;
      const release = (finished: boolean): void => {
        if (over) return;
        over = true;
        signal.removeEventListener("abort", onAbort);
        resolve(finished);
      };
      const onAbort = (): void => {
        const inst = this.#instances.get(id);
        if (inst?.release === release) this.#drop(inst);
        release(false);
      };
      signal.addEventListener("abort", onAbort, { once: true });
      void this.#serial(id, () => this.#take(id, trigger.attempt, release))
        .catch((error: unknown) => {
          this.#logger.warn("workflow: taking over an instance failed; retried", {
            instanceId: id,
            error: errorMessage(error),
          });
          release(false);
        })
        .finally(() => this.#taking--);
    });
  }

  async #take(id: string, attempt: number, release: (finished: boolean) => void): Promise<void> {
    if (this.#instances.has(id)) {
      // Claimed again while held (our lease ran out unrenewed): this claim gives up, which
      // clears the lease, the renewal notices, and the instance is claimed afresh.
      release(false);
      return;
    }
    const fresh = this.#fresh.get(id);
    this.#fresh.delete(id);
    const inst: Live | undefined = fresh ?? (await this.#store.load(id));
    if (!inst) {
      // The lease is written before the state: its start may not be committed yet. Only a lease
      // whose state never came (the starting sidecar died in between) is dropped.
      release(attempt >= 10);
      return;
    }
    if (TERMINAL.has(inst.meta.status)) {
      release(true); // nothing to run: the one-shot lease is done
      return;
    }
    const previous = inst.meta.owner;
    if (previous !== this.#me) {
      // One commit per takeover: it fences the previous owner (its next commit fails) and
      // points other sidecars' wake-ups here.
      await this.#commit(inst, {
        meta: {
          ...inst.meta,
          owner: this.#me,
          updatedAt: Date.now(),
          generation: inst.meta.generation + 1,
        },
        history: inst.history,
        keptHistory: inst.history.length,
        inbox: inst.inbox,
        keptInbox: inst.inbox.length,
      });
      if (previous) void this.#scheduler.delete(this.#wakeKey(previous, id)).catch(() => false);
    }
    inst.release = release;
    this.#instances.set(id, inst);
    await this.#resume(inst);
  }

  /** Stops driving an instance here (ownership lost or given up); its turn is forgotten. */
  #drop(inst: Live): void {
    if (this.#instances.get(inst.id) === inst) this.#instances.delete(inst.id);
    if (inst.turn) {
      clearTimeout(inst.turn.timer);
      inst.turn.worker.inFlight.delete(`o:${inst.id}`);
      inst.turn = undefined;
    }
  }

  /**
   * Makes the held instance what the store holds (another writer committed): a turn in flight is
   * forgotten (its answer would apply to old state) and the next one queued. Gives the instance
   * up when another sidecar owns it now or it is gone.
   */
  async #reload(inst: Live): Promise<void> {
    if (this.#instances.get(inst.id) !== inst) return;
    let stored: StoredInstance | undefined;
    try {
      stored = await this.#store.load(inst.id);
    } catch (error) {
      this.#logger.warn("workflow: reloading an instance failed; giving it up", {
        instanceId: inst.id,
        error: errorMessage(error),
      });
      this.#drop(inst);
      inst.release?.(false);
      return;
    }
    if (!stored || stored.meta.owner !== this.#me || TERMINAL.has(stored.meta.status)) {
      this.#drop(inst);
      inst.release?.(false);
      return;
    }
    if (inst.turn) {
      clearTimeout(inst.turn.timer);
      inst.turn.worker.inFlight.delete(`o:${inst.id}`);
      inst.turn = undefined;
    }
    inst.meta = stored.meta;
    inst.etag = stored.etag;
    inst.history = stored.history;
    inst.inbox = stored.inbox;
    this.#kick(inst);
  }

  /** Another sidecar changed an instance we own: read it again. */
  async #onWake(trigger: Trigger): Promise<boolean> {
    const id = trigger.key.slice(this.#wakePrefix.length);
    await this.#serial(id, async () => {
      const held = this.#instances.get(id);
      if (held) await this.#reload(held);
    });
    this.#work.pump();
    return true;
  }

  /** Tells the owner of an instance changed here that it changed. */
  async #wakeOwner(inst: StoredInstance): Promise<void> {
    const owner = inst.meta.owner;
    if (!owner || owner === this.#me) return; // ours: the claim of its lease loads it
    await this.#scheduler.schedule(
      this.#wakeKey(owner, inst.id),
      { dueTime: new Date().toISOString() },
      new Uint8Array(),
      { overwrite: true },
    );
  }

  /**
   * Appends what `make` returns to the instance's inbox, wherever it is owned: in memory when
   * held here, else in the store under its ETag (and the owner is woken). A conflict is retried
   * on fresh state, so `make` sees every result already recorded: nothing is recorded twice.
   */
  async #deliver(
    id: string,
    make: (inst: StoredInstance) => HistoryEvent[] | undefined,
  ): Promise<"done" | "missing" | "terminal"> {
    const outcome = await this.#serial(id, async () => {
      for (let attempt = 1; ; attempt++) {
        const held = this.#instances.get(id);
        if (!held) this.#fresh.delete(id);
        const inst: Live | undefined = held ?? (await this.#store.load(id));
        if (!inst) return "missing" as const;
        if (TERMINAL.has(inst.meta.status)) return "terminal" as const;
        const events = make(inst);
        if (!events || events.length === 0) return "done" as const;
        try {
          await this.#append(inst, events);
          if (!held) await this.#wakeOwner(inst);
          return "done" as const;
        } catch (error) {
          if (!isConflict(error) || attempt >= 10) throw error;
          if (held) await this.#reload(held);
        }
      }
    });
    this.#work.pump();
    return outcome;
  }

  // --- instance state -------------------------------------------------------------------

  /** Appends events to the inbox of a live instance (one commit) and schedules its turn. */
  async #append(inst: Live, events: HistoryEvent[]): Promise<void> {
    await this.#commit(inst, {
      meta: {
        ...inst.meta,
        updatedAt: Date.now(),
        generation: inst.meta.generation + 1,
      },
      history: inst.history,
      keptHistory: inst.history.length,
      inbox: [...inst.inbox, ...events],
      keptInbox: inst.inbox.length,
    });
    this.#kick(inst);
  }

  async #toInbox(id: string, e: HistoryEvent): Promise<void> {
    // A finished instance takes nothing more.
    if ((await this.#deliver(id, () => [e])) === "missing")
      throw apiError("WORKFLOW_NOT_FOUND", { id });
  }

  /** Commits and, only once the store took it, makes it the instance's state in memory. */
  async #commit(inst: Live, commit: Commit): Promise<void> {
    const meta = {
      ...commit.meta,
      historyLength: commit.history.length,
      inboxLength: commit.inbox.length,
    };
    const etag = await this.#store.commit(
      inst.id,
      inst.etag,
      { historyLength: inst.history.length, inboxLength: inst.inbox.length },
      { ...commit, meta },
    );
    inst.meta = meta;
    inst.etag = etag;
    inst.history = [...commit.history];
    inst.inbox = [...commit.inbox];
    const set = this.#waiters.get(inst.id);
    if (set) for (const wake of [...set]) wake();
  }

  /** The instance as stored, without taking it over (no recovery). */
  async #peek(id: string): Promise<Live | undefined> {
    return this.#instances.get(id) ?? (await this.#store.load(id));
  }

  /**
   * An instance just taken over, resumed: its pending activities are sent again, its timers and
   * children ensured, its inbox turned.
   */
  async #resume(inst: Live): Promise<void> {
    const id = inst.id;
    for (const task of pendingActivities(inst.history, inst.inbox)) {
      this.#work.enqueue({
        kind: "activity",
        instanceId: id,
        executionId: inst.meta.executionId,
        taskId: task.eventId ?? -1,
        name: task.taskScheduled?.name ?? "",
        input: task.taskScheduled?.input?.value,
      });
    }
    for (const timer of pendingTimers(inst.history, inst.inbox)) {
      await this.#ensureTimer(
        id,
        inst.meta.executionId,
        timer.eventId ?? -1,
        millisOf(timer.timerCreated?.fireAt),
      );
    }
    for (const child of pendingChildren(inst.history, inst.inbox)) {
      void this.#ensureChild(id, inst.meta.name, child).catch((error: unknown) =>
        this.#logger.warn("workflow: resuming a child workflow failed", {
          instanceId: id,
          error: errorMessage(error),
        }),
      );
    }
    this.#kick(inst);
  }

  /** Runs `fn` after every earlier operation on the instance: one turn at a time. */
  #serial<T>(id: string, fn: () => Promise<T>): Promise<T> {
    const prior = this.#chains.get(id) ?? Promise.resolve();
    const run = prior.then(fn, fn);
    const tail = run.then(
      () => undefined,
      () => undefined,
    );
    this.#chains.set(id, tail);
    void tail.then(() => {
      if (this.#chains.get(id) === tail) this.#chains.delete(id);
    });
    return run;
  }

  #jobKey(id: string, kind: string): string {
    return `${instanceJobPrefix(this.#prefix, id)}${kind}`;
  }

  #leaseKey(id: string): string {
    return `${this.#leasePrefix}${id}`;
  }

  #wakeKey(owner: string, id: string): string {
    return `${this.#wakePrefix.slice(0, -this.#me.length - 2)}${owner}||${id}`;
  }

  // --- dispatch -------------------------------------------------------------------------

  /** Queues the instance's next turn, or ends it at once when a termination waits. */
  #kick(inst: Live): void {
    if (this.#instances.get(inst.id) !== inst) return; // another sidecar drives it
    if (TERMINAL.has(inst.meta.status) || inst.turn || inst.inbox.length === 0) return;
    if (inst.inbox.some((e) => e.executionTerminated)) {
      void this.#serial(inst.id, async () => {
        if (this.#instances.get(inst.id) === inst && !inst.turn && !TERMINAL.has(inst.meta.status))
          await this.#terminateNow(inst);
      }).catch((error: unknown) =>
        this.#logger.error("workflow: terminating failed", {
          instanceId: inst.id,
          error: errorMessage(error),
        }),
      );
      return;
    }
    this.#work.enqueue({ kind: "orchestration", instanceId: inst.id });
    this.#work.pump();
  }

  #dispatchTurn(pending: Pending & { kind: "orchestration" }, worker: Worker): void {
    const inst = this.#instances.get(pending.instanceId);
    if (!inst || inst.turn || inst.inbox.length === 0 || TERMINAL.has(inst.meta.status)) return;
    if (inst.inbox.some((e) => e.executionTerminated)) {
      this.#kick(inst);
      return;
    }
    const suspended = inst.meta.status === "ORCHESTRATION_STATUS_SUSPENDED";
    if (suspended && !inst.inbox.some((e) => e.executionResumed)) return;
    const startAt = millisOf(inst.inbox[0]?.executionStarted?.scheduledStartTimestamp);
    if (inst.history.length === 0 && startAt > Date.now()) return; // its start job kicks it
    const newEvents = [event("orchestratorStarted", {}), ...inst.inbox];
    const turn: Turn = {
      worker,
      consumed: inst.inbox.length,
      newEvents,
      timer: setTimeout(() => {
        if (inst.turn !== turn) return;
        this.#logger.warn("workflow: a turn was not answered in time; sending it again", {
          instanceId: inst.id,
        });
        worker.inFlight.delete(keyOf(pending));
        inst.turn = undefined;
        this.#kick(inst);
      }, this.#turnTimeoutMs).unref(),
    };
    inst.turn = turn;
    worker.inFlight.set(keyOf(pending), pending);
    worker.send({
      orchestratorRequest: {
        instanceId: inst.id,
        executionId: { value: inst.meta.executionId },
        pastEvents: inst.history,
        newEvents,
      },
    });
  }

  #dispatchActivity(pending: Pending & { kind: "activity" }, worker: Worker): void {
    const inst = this.#instances.get(pending.instanceId);
    if (!inst || inst.meta.executionId !== pending.executionId) return;
    if (!awaitsResult(inst.history, inst.inbox, pending.taskId)) return;
    worker.inFlight.set(keyOf(pending), pending);
    worker.send({
      activityRequest: {
        name: pending.name,
        input: stringValue(pending.input),
        orchestrationInstance: {
          instanceId: pending.instanceId,
          executionId: { value: pending.executionId },
        },
        taskId: pending.taskId,
      },
    });
  }
}

/** `RUNNING` for `ORCHESTRATION_STATUS_RUNNING`: the runtime status names of Dapr's API. */
export function statusName(status: Status): string {
  return status.replace(/^ORCHESTRATION_STATUS_/, "");
}

export type { InstanceMeta, TaskFailureDetails };
