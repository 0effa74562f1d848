import { sharedConfig } from "../../conformance/vitest.shared.ts";

export default sharedConfig;
