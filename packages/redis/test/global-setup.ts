import { sharedServices, startRedis } from "@outrig/conformance/services";

// One Redis for the whole package run (or the one OUTRIG_TEST_REDIS_URL names);
// the restart tests still start their own.
export default sharedServices(() => startRedis());
