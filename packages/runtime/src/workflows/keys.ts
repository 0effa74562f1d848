// Where a workflow instance lives, in Dapr's layout: the instance is an internal actor of type
// `dapr.internal.<namespace>.<appId>.workflow`, its state under the actor state keys
// `<appId>||<actorType>||<instanceId>||<key>` with keys `metadata`, `history-NNNNNN` and
// `inbox-NNNNNN`; its timers and its ownership lease are scheduler jobs.

const SEPARATOR = "||";

export function workflowActorType(namespace: string | undefined, appId: string): string {
  return `dapr.internal.${namespace || "default"}.${appId}.workflow`;
}

export interface InstanceKeys {
  metadata(instanceId: string): string;
  history(instanceId: string, index: number): string;
  inbox(instanceId: string, index: number): string;
  /** An SQL LIKE pattern (the stores' KEYS_LIKE) matching every instance's `metadata` key. */
  readonly metadataLike: string;
  /** The instance id in a `metadata` key that `metadataLike` matched. */
  idOfMetadata(key: string): string;
}

export function instanceKeys(appId: string, actorType: string): InstanceKeys {
  const prefix = `${appId}${SEPARATOR}${actorType}${SEPARATOR}`;
  const base = (id: string) => `${prefix}${id}${SEPARATOR}`;
  const suffix = `${SEPARATOR}metadata`;
  return {
    metadata: (id) => `${base(id)}metadata`,
    history: (id, i) => `${base(id)}history-${String(i).padStart(6, "0")}`,
    inbox: (id, i) => `${base(id)}inbox-${String(i).padStart(6, "0")}`,
    // Ids never hold `||` (badInstanceId), so `%` spans exactly one id.
    metadataLike: `${prefix.replace(/[\\%_]/g, "\\$&")}%${suffix}`,
    idOfMetadata: (key) => key.slice(prefix.length, key.length - suffix.length),
  };
}

/** The scheduler prefix of one app's workflow jobs (beside the Jobs API's `app||…`). */
export function workflowJobPrefix(namespace: string | undefined, appId: string): string {
  return `workflow${SEPARATOR}${namespace || "default"}${SEPARATOR}${appId}${SEPARATOR}`;
}

/** The scheduler prefix of the instances' ownership leases: `<prefix><instanceId>`. */
export function workflowLeasePrefix(namespace: string | undefined, appId: string): string {
  return `workflow-lease${SEPARATOR}${namespace || "default"}${SEPARATOR}${appId}${SEPARATOR}`;
}

/** The scheduler prefix of wake-ups for an instance's owner: `<prefix><owner>||<instanceId>`. */
export function workflowWakePrefix(namespace: string | undefined, appId: string): string {
  return `workflow-wake${SEPARATOR}${namespace || "default"}${SEPARATOR}${appId}${SEPARATOR}`;
}

/** The job kinds under an instance: `<prefix><instanceId>||<kind>` (`active`: older versions). */
export const ACTIVE_JOB = "active";
export const START_JOB = "start";
export const timerJob = (timerId: number): string => `timer-${timerId}`;

export function instanceJobPrefix(prefix: string, instanceId: string): string {
  return `${prefix}${instanceId}${SEPARATOR}`;
}

/** `[instanceId, kind]` of a job key under `prefix`, when it is one of ours. */
export function parseJobKey(prefix: string, key: string): [string, string] | undefined {
  if (!key.startsWith(prefix)) return undefined;
  const rest = key.slice(prefix.length);
  const at = rest.lastIndexOf(SEPARATOR);
  if (at <= 0) return undefined;
  return [rest.slice(0, at), rest.slice(at + SEPARATOR.length)];
}

/**
 * Instance ids the engine accepts: they become parts of state and scheduler keys, so never the
 * `||` separator. Dapr's HTTP API is stricter (see HTTP_INSTANCE_ID); children get `parent:N`.
 */
export function badInstanceId(id: string): string | undefined {
  if (id.includes(SEPARATOR)) return `workflow instance ID '${id}' can't contain '${SEPARATOR}'`;
  return undefined;
}
