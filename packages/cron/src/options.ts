import { defineOptions, option, type ParsedOptions } from "@outrig/core";

/** Dapr's `bindings.cron` metadata names. */
export const cronBindingOptions = defineOptions("bindings.cron", {
  schedule: option.string({
    required: true,
    description:
      "When to fire: a cron expression with an optional leading seconds field (`*/15 * * * * *`, `0 30 3 * * *`, `30 3 * * *`), a descriptor (`@yearly`, `@annually`, `@monthly`, `@weekly`, `@daily`, `@midnight`, `@hourly`) or `@every <duration>` (`@every 1s`, `@every 1h30m`); `CRON_TZ=<zone> ` in front picks the time zone",
    example: "@every 15s",
  }),
  direction: option.enum(["input"] as const, {
    default: "input",
    description: "Dapr's binding direction; cron is input only",
  }),
});

export type CronBindingOptions = ParsedOptions<typeof cronBindingOptions.fields>;
