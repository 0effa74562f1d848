import {
  type BindingDefinition,
  type BindingHandler,
  type ComponentContext,
  errorMessage,
  type Logger,
  type Metadata,
  silentLogger,
} from "@outrig/core";
import { BaseInputBinding, type StopFunction } from "@outrig/core/kit";
import { cronBindingOptions } from "./options.ts";
import { parseSchedule, type Schedule } from "./schedule.ts";

const COMPONENT = "bindings.cron";
/** setTimeout's ceiling (about 24.8 days); longer waits are taken in steps. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * `bindings.cron`: an input binding that calls the handler on a schedule. Each tick is one
 * handler call with empty data and metadata `timeZone` and `readTimeUTC` (RFC 3339), as Dapr's.
 * A tick whose handler throws is logged and not retried (the next tick comes as scheduled); a
 * tick that falls due while the previous handler of the same read is still running is skipped,
 * so a slow handler never piles up calls.
 */
export class CronBinding extends BaseInputBinding {
  readonly componentType = COMPONENT;
  readonly schedule: Schedule;
  private readonly logger: Logger;

  constructor(schedule: Schedule, logger: Logger = silentLogger) {
    super();
    this.schedule = schedule;
    this.logger = logger;
  }

  protected async startReading(handler: BindingHandler): Promise<StopFunction> {
    let timer: NodeJS.Timeout | undefined;
    let stopped = false;
    let running = false;

    const tick = async (due: Date): Promise<void> => {
      if (stopped) return;
      if (running) {
        this.logger.debug("cron: tick skipped, the previous handler is still running", {
          schedule: this.schedule.text,
          due: due.toISOString(),
        });
        return;
      }
      running = true;
      try {
        await handler({
          data: new Uint8Array(),
          metadata: { timeZone: this.schedule.timeZone, readTimeUTC: new Date().toISOString() },
        });
      } catch (error) {
        this.logger.warn("cron: handler failed; the tick is not retried", {
          schedule: this.schedule.text,
          error: errorMessage(error),
        });
      } finally {
        running = false;
      }
    };

    const arm = (from: Date): void => {
      if (stopped) return;
      const due = this.schedule.next(from);
      if (!due) return;
      const wait = Math.max(0, due.getTime() - Date.now());
      timer = setTimeout(
        () => {
          if (Date.now() < due.getTime()) return arm(from);
          void tick(due);
          // From the due time, so ticks keep their rhythm; from now if the process fell behind,
          // so missed ticks are not fired in a burst.
          arm(new Date(Math.max(due.getTime(), Date.now() - 1)));
        },
        Math.min(wait, MAX_TIMER_MS),
      );
    };
    arm(new Date());
    return () => {
      stopped = true;
      if (timer) clearTimeout(timer);
    };
  }
}

/** Creates a `bindings.cron` input binding from Dapr metadata (`schedule`). */
export async function createCronBinding(
  metadata: Metadata,
  context?: ComponentContext,
): Promise<CronBinding> {
  const options = cronBindingOptions.parse(metadata);
  return new CronBinding(parseSchedule(options.schedule), context?.logger);
}

export const cronBindingDefinition: BindingDefinition = {
  type: COMPONENT,
  kind: "bindings",
  version: "v1",
  status: "beta",
  description: "Calls the app on a schedule: cron expressions with seconds, descriptors, @every",
  capabilities: ["read"],
  directions: ["input"],
  options: cronBindingOptions,
  create: createCronBinding,
};
