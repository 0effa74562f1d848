/**
 * What the services machinery needs to know about one test service, declared once in the
 * service's folder (`<service>/index.ts`) and listed in `registry.ts`. The image tags come from
 * `<service>/image/image.json`, the file the podman build reads too, so a tag is written once.
 */
export interface TestServiceDefinition<N extends string = string> {
  /** The folder name; also `OUTRIG_TEST_<NAME>_IMAGE` and the `outrig.service` label. */
  readonly name: N;
  readonly image: ServiceImages;
  /**
   * The variable that makes `start<Service>()` reuse a running service instead of a container
   * (e.g. `OUTRIG_TEST_REDIS_URL`), and its value for a started one (what `sharedServices` sets).
   */
  readonly override: {
    readonly variable: string;
    value(service: { readonly host: string; readonly port: number; readonly url: string }): string;
  };
}

export interface ServiceImages {
  /** What a contributor with Docker and a registry gets by default. */
  readonly public: string;
  /** What `pnpm conformance:images` builds locally (`<service>/image/`). */
  readonly local: string;
}

/** `<service>/image/image.json`: read by the TypeScript below and by scripts/build-images.sh. */
export interface ImageRecipe {
  /** One sentence on what the image runs and where it comes from. */
  readonly about: string;
  /** The local tag the build gives the image. */
  readonly tag: string;
  /** The public image the same tests run against where a registry is reachable. */
  readonly public: string;
  /** `podman import --change` lines (one `ENV` per line). */
  readonly changes: readonly string[];
}

export function defineTestService<const N extends string>(definition: {
  name: N;
  image: ImageRecipe;
  override: TestServiceDefinition["override"];
}): TestServiceDefinition<N> {
  return {
    name: definition.name,
    image: { local: definition.image.tag, public: definition.image.public },
    override: definition.override,
  };
}

/** The env var that selects a service's image, e.g. `OUTRIG_TEST_REDIS_IMAGE`. */
export function imageEnvVar(name: string): string {
  return `OUTRIG_TEST_${name.toUpperCase().replaceAll("-", "_")}_IMAGE`;
}
