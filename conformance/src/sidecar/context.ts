import type { TestApp } from "./app.ts";

/** Shared by the case groups of one `describeSidecarConformance` call. */
export interface SidecarSuiteContext {
  /** Unique per call; every key, topic and queue the suite uses contains it. */
  readonly runId: string;
  /** The sidecar's base URL (set once it has started). */
  url(): string;
  readonly app: TestApp;
  /** Capabilities the sidecar's `/v1.0/metadata` lists for the named component. */
  capabilities(component: string): ReadonlySet<string>;
}
