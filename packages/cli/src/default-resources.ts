/**
 * The resource files `outrig init` writes, and the same pair `outrig run` falls back to.
 * Same names as Dapr's (`statestore`, `pubsub`, `daprConfig`) so tutorials work unchanged;
 * embedded backends instead of Redis so nothing but Node is needed.
 */

/** A YAML double-quoted scalar; JSON's string syntax is a subset of it. */
function quote(value: string): string {
  return JSON.stringify(value);
}

export function sqliteStateStoreYaml(databasePath: string): string {
  return `apiVersion: dapr.io/v1alpha1
kind: Component
metadata:
  name: statestore
spec:
  type: state.sqlite
  version: v1
  metadata:
    - name: connectionString
      value: ${quote(databasePath)}
    - name: actorStateStore
      value: "true"
`;
}

export const memoryStateStoreYaml = `apiVersion: dapr.io/v1alpha1
kind: Component
metadata:
  name: statestore
spec:
  type: state.in-memory
  version: v1
  metadata:
    - name: actorStateStore
      value: "true"
`;

export const memoryPubSubYaml = `apiVersion: dapr.io/v1alpha1
kind: Component
metadata:
  name: pubsub
spec:
  type: pubsub.in-memory
  version: v1
  metadata: []
`;

/** Dapr's slim-init configuration: no tracing exporter, since there is no Zipkin to send to. */
export const defaultConfigurationYaml = `apiVersion: dapr.io/v1alpha1
kind: Configuration
metadata:
  name: daprConfig
spec: {}
`;

/**
 * What `outrig run` loads when `~/.outrig/components` does not exist (before `outrig init`): the
 * same durable SQLite statestore `init` writes, so state survives restarts from the first run.
 */
export function embeddedDefaultResources(stateDatabase: string): string {
  return `${sqliteStateStoreYaml(stateDatabase)}---\n${memoryPubSubYaml}`;
}
