import { ComponentError } from "@outrig/core";
import type { ActorApp, AppCall } from "../actors/app-calls.ts";
import type { AppResponse } from "../app/channel.ts";
import type { ActorPolicy } from "./actor-policy.ts";
import { type ResiliencyPolicies, runWithPolicy } from "./policies.ts";

/** An app's error answer (400 and above), thrown so the policy retries it and a breaker counts it. */
class ErrorAnswer extends Error {
  readonly answer: AppResponse;
  constructor(answer: AppResponse) {
    super(`the app answered ${answer.status}`);
    this.answer = answer;
  }
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
    throw new ComponentError("ERR_TIMEOUT", `${what} timed out after ${ms}ms (resiliency timeout)`);
  }
}

/**
 * The actor calls into the app with the Resiliency policy of the actor type applied
 * (`targets.actors.<type>`, or Dapr's actor defaults): timeout per attempt, circuit breaker
 * (kept per id, per type or both, by the target's circuitBreakerScope), retries. The actor
 * runtime makes these calls inside the actor's turn, so a retry runs in the same turn: the actor
 * never sees two of them at once. Method invocations and timer callbacks get the whole policy;
 * a reminder tick gets the timeout and the breaker but no retries, since the scheduler already
 * retries a failed tick by the reminder's failure policy. An error answer that outlives its
 * retries goes back as the app gave it; a timeout or an open breaker fails the call, which the
 * actor API answers as ERR_ACTOR_INVOKE_METHOD. Deactivation is not covered, as in daprd.
 */
export function resilientActorApp(app: ActorApp, policies: ResiliencyPolicies): ActorApp {
  const run = async <C extends AppCall>(
    what: string,
    call: C,
    send: (call: C) => Promise<AppResponse>,
    retry: boolean,
  ): Promise<AppResponse> => {
    const policy = policies.actor(call.type);
    if (!policy) return send(call);
    const label = `actor ${call.type}||${call.id} ${what}`;
    try {
      return await runWithPolicy(
        { retry: policy.retry, breaker: policy.breaker(call.id) },
        label,
        async () => {
          const answer = await attempt(policy, label, call, send);
          if (answer.status >= 400) throw new ErrorAnswer(answer);
          return answer;
        },
        {
          retry,
          // matching.httpStatusCodes, when set, says which error answers are worth another try.
          retryable: (e) =>
            !(
              e instanceof ErrorAnswer && policy.retry?.httpStatusCodes?.(e.answer.status) === false
            ),
        },
      );
    } catch (error) {
      if (error instanceof ErrorAnswer) return error.answer;
      throw error;
    }
  };
  return {
    config: (signal) => app.config(signal),
    method: (call) => run(`method ${call.method}`, call, (c) => app.method(c), true),
    timer: (call) => run(`timer ${call.name}`, call, (c) => app.timer(c), true),
    reminder: (call) => run(`reminder ${call.name}`, call, (c) => app.reminder(c), false),
    deactivate: (call) => app.deactivate(call),
  };
}
