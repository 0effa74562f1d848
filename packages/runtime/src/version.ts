/** This package's version, reported by the metadata API. */
export const RUNTIME_VERSION = "0.1.0";
/** The Dapr HTTP API level the sidecar implements. */
export const DAPR_API_LEVEL = "1.14";
