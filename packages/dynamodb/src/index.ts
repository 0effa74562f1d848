export type { RetryPolicy } from "./batch.ts";
export { mapAwsError } from "./errors.ts";
export { manifest } from "./manifest.ts";
export type { DynamoDBSettings } from "./options.ts";
export { dynamodbOptions, parseDynamoDBMetadata } from "./options.ts";
export { MAX_TRANSACTION_ITEMS } from "./plan.ts";
export type { DynamoDBStateStoreMetadata, DynamoDBStateStoreOptions } from "./state.ts";
export { createDynamoDBStateStore, DynamoDBStateStore } from "./state.ts";
