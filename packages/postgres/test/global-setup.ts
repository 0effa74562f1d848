import { sharedServices, startPostgres } from "@outrig/conformance/services";

// One PostgreSQL for the whole package run (or the one OUTRIG_TEST_POSTGRES_URL names);
// the restart tests still start their own.
export default sharedServices(() => startPostgres());
