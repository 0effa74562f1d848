/**
 * Every flag of `dapr run` (dapr/cli cmd/run.go, plus the root's persistent `--log-as-json` and
 * `--runtime-path`, and daprd flags the brief names) and every run-file field (pkg/standalone
 * RunConfig / SharedRunConfig, pkg/runfileconfig), with what outrig does with it. One home for
 * the rule "nothing accepted and silently ignored": the CLI registers the flags it does not
 * honour from this table, warns or refuses by name, and the README's table is checked against it.
 */

/** honoured: it works; warn: accepted, a warning says it is not supported yet; refuse: exit 1. */
export type Support = "honoured" | "warn" | "refuse";

export interface DaprFlag {
  /** Long name without dashes. */
  name: string;
  short?: string;
  /** Placeholder of the value; absent for a boolean switch. */
  value?: string;
  support: Support;
  /** What outrig does, or why not yet. */
  note: string;
}

const NOT_YET = "not supported yet";

export const DAPR_RUN_FLAGS: readonly DaprFlag[] = [
  { name: "app-id", short: "a", value: "id", support: "honoured", note: "default: random" },
  { name: "app-port", short: "p", value: "port", support: "honoured", note: "" },
  { name: "dapr-http-port", short: "H", value: "port", support: "honoured", note: "" },
  {
    name: "dapr-grpc-port",
    short: "G",
    value: "port",
    support: "honoured",
    note: "given to the app as DAPR_GRPC_PORT",
  },
  {
    name: "dapr-internal-grpc-port",
    short: "I",
    value: "port",
    support: "warn",
    note: `${NOT_YET}: sidecars call apps directly, there is no internal gRPC API`,
  },
  { name: "config", short: "c", value: "file", support: "honoured", note: "" },
  { name: "resources-path", value: "dir", support: "honoured", note: "repeatable" },
  {
    name: "components-path",
    short: "d",
    value: "dir",
    support: "honoured",
    note: "deprecated alias",
  },
  {
    name: "app-protocol",
    short: "P",
    value: "protocol",
    support: "honoured",
    note: "http, grpc (https, grpcs, h2c refused)",
  },
  { name: "app-channel-address", value: "host", support: "honoured", note: "" },
  { name: "app-max-concurrency", value: "n", support: "honoured", note: "" },
  { name: "log-level", value: "level", support: "honoured", note: "" },
  { name: "enable-api-logging", support: "honoured", note: "" },
  { name: "run-file", short: "f", value: "file", support: "honoured", note: "" },
  {
    name: "max-body-size",
    value: "size",
    support: "honoured",
    note: "a Kubernetes quantity, default 4Mi; larger bodies get 413",
  },
  {
    name: "dapr-http-max-request-size",
    value: "mb",
    support: "honoured",
    note: "deprecated: MB, as --max-body-size",
  },
  {
    name: "dapr-graceful-shutdown-seconds",
    value: "seconds",
    support: "honoured",
    note: "drain time on stop, default 5",
  },
  {
    name: "dapr-listen-addresses",
    value: "addresses",
    support: "honoured",
    note: "one address (the sidecar's HTTP API); several are refused",
  },
  {
    name: "app-health-check-path",
    value: "path",
    support: "honoured",
    note: "probed with GET; default /healthz",
  },
  {
    name: "enable-app-health-check",
    support: "honoured",
    note: "no deliveries while the app is unhealthy",
  },
  { name: "app-health-probe-interval", value: "seconds", support: "honoured", note: "default 5" },
  { name: "app-health-probe-timeout", value: "ms", support: "honoured", note: "default 500" },
  { name: "app-health-threshold", value: "n", support: "honoured", note: "default 3" },
  {
    name: "enable-metrics",
    value: "bool",
    support: "honoured",
    note: "daprd's flag; false: no metrics port",
  },
  {
    name: "metrics-port",
    short: "M",
    value: "port",
    support: "honoured",
    note: "Prometheus `GET /metrics`; default: a free port",
  },
  { name: "enable-profiling", support: "warn", note: `${NOT_YET} (profiling)` },
  { name: "profile-port", value: "port", support: "warn", note: `${NOT_YET} (profiling)` },
  {
    name: "placement-host-address",
    value: "address",
    support: "warn",
    note: "the actor placement is embedded (membership in the scheduler store every outrig run shares); no address is used",
  },
  {
    name: "scheduler-host-address",
    value: "address",
    support: "warn",
    note: "the scheduler is embedded (jobs in $OUTRIG_HOME/scheduler.db, or env OUTRIG_SCHEDULER_STORE); no address is used",
  },
  {
    name: "read-buffer-size",
    value: "size",
    support: "warn",
    note: `${NOT_YET}: Node's header limit applies`,
  },
  {
    name: "dapr-http-read-buffer-size",
    value: "kb",
    support: "warn",
    note: `${NOT_YET}: deprecated form of --read-buffer-size`,
  },
  {
    name: "log-as-json",
    support: "honoured",
    note: "daprd's JSON fields for sidecar lines, the dapr CLI's for its own",
  },
  {
    name: "runtime-path",
    value: "dir",
    support: "warn",
    note: "not applicable: the sidecar runs inside outrig, there is no daprd binary",
  },
  {
    name: "unix-domain-socket",
    short: "u",
    value: "dir",
    support: "refuse",
    note: `${NOT_YET}: the API listens on TCP only`,
  },
  {
    name: "app-ssl",
    support: "refuse",
    note: `${NOT_YET}: calls to the app are plain HTTP (deprecated in Dapr too)`,
  },
  {
    name: "kubernetes",
    short: "k",
    support: "refuse",
    note: `${NOT_YET}: outrig runs apps locally only`,
  },
];

export interface RunFileField {
  name: string;
  /** `common` fields may also sit in each app; `app` fields only in an app; `root` at the top. */
  where: "root" | "common" | "app";
  support: Support;
  note: string;
}

export const DAPR_RUN_FILE_FIELDS: readonly RunFileField[] = [
  { name: "version", where: "root", support: "honoured", note: "must be 1" },
  { name: "name", where: "root", support: "honoured", note: "" },
  { name: "common", where: "root", support: "honoured", note: "" },
  { name: "apps", where: "root", support: "honoured", note: "" },
  { name: "appDirPath", where: "app", support: "honoured", note: "required" },
  { name: "appID", where: "app", support: "honoured", note: "default: the directory name" },
  { name: "appPort", where: "app", support: "honoured", note: "" },
  { name: "appChannelAddress", where: "app", support: "honoured", note: "" },
  { name: "daprHTTPPort", where: "app", support: "honoured", note: "" },
  { name: "daprGRPCPort", where: "app", support: "honoured", note: "" },
  { name: "command", where: "app", support: "honoured", note: "" },
  { name: "metricsPort", where: "app", support: "honoured", note: "default: a free port" },
  { name: "profilePort", where: "app", support: "warn", note: `${NOT_YET} (profiling)` },
  {
    name: "daprInternalGRPCPort",
    where: "app",
    support: "warn",
    note: `${NOT_YET}: no internal gRPC API`,
  },
  { name: "unixDomainSocket", where: "app", support: "refuse", note: `${NOT_YET}: TCP only` },
  { name: "containerImage", where: "app", support: "warn", note: `${NOT_YET} (Kubernetes)` },
  {
    name: "containerImagePullPolicy",
    where: "app",
    support: "warn",
    note: `${NOT_YET} (Kubernetes)`,
  },
  { name: "createService", where: "app", support: "warn", note: `${NOT_YET} (Kubernetes)` },
  { name: "configFilePath", where: "common", support: "honoured", note: "" },
  {
    name: "appProtocol",
    where: "common",
    support: "honoured",
    note: "http, grpc (https, grpcs, h2c refused)",
  },
  { name: "apiListenAddresses", where: "common", support: "honoured", note: "one address" },
  { name: "enableProfiling", where: "common", support: "warn", note: `${NOT_YET} (profiling)` },
  { name: "logLevel", where: "common", support: "honoured", note: "" },
  { name: "appMaxConcurrency", where: "common", support: "honoured", note: "" },
  {
    name: "placementHostAddress",
    where: "common",
    support: "warn",
    note: "the actor placement is embedded; no address is used",
  },
  {
    name: "schedulerHostAddress",
    where: "common",
    support: "warn",
    note: "the scheduler is embedded; no address is used",
  },
  { name: "resourcesPath", where: "common", support: "honoured", note: "" },
  { name: "resourcesPaths", where: "common", support: "honoured", note: "" },
  { name: "appSSL", where: "common", support: "refuse", note: `${NOT_YET}: plain HTTP only` },
  { name: "maxBodySize", where: "common", support: "honoured", note: "a Kubernetes quantity" },
  {
    name: "daprHTTPMaxRequestSize",
    where: "common",
    support: "honoured",
    note: "deprecated: MB",
  },
  { name: "readBufferSize", where: "common", support: "warn", note: NOT_YET },
  { name: "daprHTTPReadBufferSize", where: "common", support: "warn", note: NOT_YET },
  { name: "enableAppHealthCheck", where: "common", support: "honoured", note: "" },
  { name: "appHealthCheckPath", where: "common", support: "honoured", note: "" },
  { name: "appHealthProbeInterval", where: "common", support: "honoured", note: "seconds" },
  { name: "appHealthProbeTimeout", where: "common", support: "honoured", note: "ms" },
  { name: "appHealthThreshold", where: "common", support: "honoured", note: "" },
  { name: "enableApiLogging", where: "common", support: "honoured", note: "" },
  {
    name: "runtimePath",
    where: "common",
    support: "warn",
    note: "not applicable: no daprd binary",
  },
  { name: "env", where: "common", support: "honoured", note: "merged key by key" },
  { name: "appLogDestination", where: "common", support: "honoured", note: "" },
  { name: "daprdLogDestination", where: "common", support: "honoured", note: "" },
];

/** The message for a flag or field outrig does not honour. */
export function unsupportedMessage(label: string, note: string): string {
  return `${label}: ${note}`;
}
