/** The names one scaffolded component is known by, derived once from the backend and kind. */
export type ScaffoldKind = "state" | "pubsub" | "bindings";
export const SCAFFOLD_KINDS: readonly ScaffoldKind[] = ["state", "pubsub", "bindings"];

export interface KindNames {
  backend: string;
  kind: ScaffoldKind;
  /** Dapr's component type, e.g. `state.foo`. */
  type: string;
  /** The source file (without `src/` and `.ts`): `state`, `pubsub` or `binding`. */
  file: string;
  /** The class, e.g. `FooStateStore`. */
  cls: string;
  /** The factory, e.g. `createFooStateStore`. */
  factory: string;
  /** The manifest entry, e.g. `fooStateDefinition`. */
  definition: string;
  /** The metadata schema, e.g. `fooStateOptions`. */
  options: string;
  /** Dapr's YAML `metadata.name` in the README example. */
  yamlName: string;
}

export function pascal(name: string): string {
  return name
    .split("-")
    .map((p) => p.charAt(0).toUpperCase() + p.slice(1))
    .join("");
}

export function camel(name: string): string {
  const p = pascal(name);
  return p.charAt(0).toLowerCase() + p.slice(1);
}

/** `OUTRIG_TEST_<NAME>_URL`: how a test names a running service. */
export function urlVariable(name: string): string {
  return `OUTRIG_TEST_${name.toUpperCase().replaceAll("-", "_")}_URL`;
}

export function kindNames(backend: string, kind: ScaffoldKind): KindNames {
  const Name = pascal(backend);
  const suffix = { state: "StateStore", pubsub: "PubSub", bindings: "Binding" }[kind];
  const short = { state: "State", pubsub: "PubSub", bindings: "Binding" }[kind];
  return {
    backend,
    kind,
    type: `${kind}.${backend}`,
    file: { state: "state", pubsub: "pubsub", bindings: "binding" }[kind],
    cls: `${Name}${suffix}`,
    factory: `create${Name}${suffix}`,
    definition: `${camel(backend)}${short}Definition`,
    options: `${camel(backend)}${short}Options`,
    yamlName: { state: "statestore", pubsub: "pubsub", bindings: backend }[kind],
  };
}

export const NAME_PATTERN = /^[a-z][a-z0-9-]*$/;
