import type { Logger } from "@outrig/core";
import type { ComponentResource, ConfigurationResource } from "../resources/model.ts";

/**
 * The Configuration that denies `component`'s type by its `spec.components.deny`, as daprd reads
 * the list: an entry is `type` (every version) or `type/version`.
 */
export function deniedBy(
  configurations: readonly ConfigurationResource[],
  component: Pick<ComponentResource, "type" | "version">,
): ConfigurationResource | undefined {
  return configurations.find((c) =>
    (c.spec.components?.deny ?? []).some((entry) => {
      const [type, version] = entry.split("/");
      return type === component.type && (!version || version === component.version);
    }),
  );
}

/**
 * `components` without those whose type a Configuration denies; each one left out is logged, as
 * daprd skips a denied component and starts without it.
 */
export function withoutDenied<T extends ComponentResource>(
  components: readonly T[],
  configurations: readonly ConfigurationResource[],
  logger: Logger,
): T[] {
  return components.filter((c) => {
    const by = deniedBy(configurations, c);
    if (!by) return true;
    logger.warn(
      `component ${c.name} (${c.type}/${c.version}) not loaded: its type is denied by Configuration ${by.name} spec.components.deny`,
      { component: c.name, type: c.type, configuration: by.name, source: c.source.file },
    );
    return false;
  });
}
