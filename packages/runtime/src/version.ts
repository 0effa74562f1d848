import pkg from "../package.json" with { type: "json" };

/** This package's version, reported by the metadata API; read from package.json so it cannot drift. */
export const RUNTIME_VERSION: string = pkg.version;
/** The Dapr HTTP API level the sidecar implements. */
export const DAPR_API_LEVEL = "1.14";
