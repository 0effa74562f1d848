import { ComponentError } from "@outrig/core";
import type { ActorApp, AppCall } from "../actors/app-calls.ts";
import type { AppResponse } from "../app/channel.ts";
import type { ActorPolicy } from "./actor-policy.ts";
import { type ResiliencyPolicies, runWithPolicy } from "./policies.ts";

/** How the .NET SDK says an actor method failed while answering 200 (daprd reads it too). */
const ERROR_HEADER = "x-daprerrorresponseheader";

/** An app's failed answer, thrown so the policy retries it and a breaker counts it. */
class ErrorAnswer extends Error {
  readonly answer: AppResponse;
  constructor(answer: AppResponse) {
    super(`the app answered ${answer.status}`);
    this.answer = answer;
  }
}

function failed(answer: AppResponse): boolean {
  return answer.status >= 400 || answer.headers[ERROR_HEADER] !== undefined;
}

/** One call to the app under the policy's timeout, which aborts the request (not only the wait). */
async function attempt<C extends AppCall>(
  policy: ActorPolicy,
  what: string,
  call: C,
  send: (call: C) => Promise<AppResponse>,
): Promise<AppResponse> {
  const ms = policy.timeoutMs;
  if (!ms) return send(call);
  const deadline = AbortSignal.timeout(ms);
  try {
    return await send({
      ...call,
      signal: call.signal ? AbortSignal.any([call.signal, deadline]) : deadline,
    });
  } catch (error) {
    if (!deadline.aborted || call.signal?.aborted) throw error;
    policy.activated("timeout");
    throw new ComponentError("ERR_TIMEOUT", `${what} timed out after ${ms}ms (resiliency timeout)`);
  }
}

/**
 * The actor calls into the app with the Resiliency policy of the actor type applied
 * (`targets.actors.<type>`, or Dapr's actor defaults). Method invocations get all of it:
 * timeout per attempt, circuit breaker (kept per id, per type or both, by the target's
 * circuitBreakerScope) and retries. The actor runtime makes these calls inside the actor's
 * turn, so a retry runs in the same turn: the actor never sees two calls at once. Timer and
 * reminder callbacks get the timeout only, as in daprd, whose callbacks take the post-lock
 * policy (the timeout) while its retry and breaker wrap method invocations alone; a failed
 * reminder tick is retried by the reminder's failure policy. An error answer that outlives its
 * retries goes back as the app gave it; a timeout or an open breaker fails the call, which the
 * actor API answers as ERR_ACTOR_INVOKE_METHOD. Deactivation is not covered, as in daprd.
 */
export function resilientActorApp(app: ActorApp, policies: ResiliencyPolicies): ActorApp {
  const invoke = async (call: Parameters<ActorApp["method"]>[0]): Promise<AppResponse> => {
    const policy = policies.actor(call.type);
    if (!policy) return app.method(call);
    const label = `actor ${call.type}||${call.id} method ${call.method}`;
    try {
      return await runWithPolicy(
        { retry: policy.retry, breaker: policy.breaker(call.id) },
        label,
        async () => {
          const answer = await attempt(policy, label, call, (c) => app.method(c));
          if (failed(answer)) throw new ErrorAnswer(answer);
          return answer;
        },
        {
          retry: true,
          onRetry: () => policy.activated("retry"),
          // A method the app does not have stays missing (daprd makes 404 permanent);
          // matching.httpStatusCodes, when set, names the statuses worth another try.
          retryable: (e) =>
            !(
              e instanceof ErrorAnswer &&
              (e.answer.status === 404 ||
                policy.retry?.httpStatusCodes?.(e.answer.status) === false)
            ),
        },
      );
    } catch (error) {
      if (error instanceof ErrorAnswer) return error.answer;
      throw error;
    }
  };
  const callback =
    (
      kind: "timer" | "reminder",
      send: (call: AppCall & { name: string }) => Promise<AppResponse>,
    ) =>
    (call: AppCall & { name: string }): Promise<AppResponse> => {
      const policy = policies.actor(call.type);
      if (!policy?.timeoutMs) return send(call);
      return attempt(policy, `actor ${call.type}||${call.id} ${kind} ${call.name}`, call, send);
    };
  return {
    config: (signal) => app.config(signal),
    method: invoke,
    timer: callback("timer", (c) => app.timer(c)),
    reminder: callback("reminder", (c) => app.reminder(c)),
    deactivate: (call) => app.deactivate(call),
  };
}
