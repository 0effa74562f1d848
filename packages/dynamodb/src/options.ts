import { ConfigError, defineOptions, option, type ParsedOptions } from "@outrig/core";

export const COMPONENT_TYPE = "state.aws.dynamodb";

/** The metadata of `state.aws.dynamodb`, named as Dapr's DynamoDB component names it. */
export const dynamodbOptions = defineOptions(COMPONENT_TYPE, {
  table: option.string({
    required: true,
    description:
      "Name of the DynamoDB table; it must exist, with a string (S) hash key named as partitionKey.",
    example: "state",
  }),
  region: option.string({
    description: "AWS region of the table; falls back to AWS_REGION / AWS_DEFAULT_REGION.",
    example: "us-east-1",
  }),
  endpoint: option.string({
    description: "Endpoint URL, for DynamoDB Local, an emulator or a VPC endpoint.",
    example: "http://localhost:8000",
  }),
  accessKey: option.string({
    sensitive: true,
    description: "AWS access key ID; without it the SDK's default credential chain is used.",
  }),
  secretKey: option.string({
    sensitive: true,
    description: "AWS secret access key (with accessKey).",
  }),
  sessionToken: option.string({
    sensitive: true,
    description: "AWS session token, for temporary credentials.",
  }),
  partitionKey: option.string({
    default: "key",
    description: "Name of the table's hash key attribute, which holds the state key.",
  }),
  actorStateStore: option.boolean({
    default: false,
    description:
      "Marks the store as the actor state store; it then declares the ACTOR capability (needs TransactWriteItems).",
  }),
  ttlAttributeName: option.string({
    description:
      "Attribute that holds the expiry (epoch seconds). Set it to enable TTL; enable DynamoDB's TTL on the same attribute so expired items are deleted.",
    example: "expiresAt",
  }),
});

export type DynamoDBSettings = ParsedOptions<(typeof dynamodbOptions)["fields"]>;

const RESERVED = new Set(["value", "etag"]);

/** Parses the metadata, adding the cross-field checks the generic schema cannot express. */
export function parseDynamoDBMetadata(
  metadata: Record<string, string> | undefined,
): DynamoDBSettings {
  const parsed = dynamodbOptions.parse(metadata);
  const issues: { field: string; message: string }[] = [];
  if ((parsed.accessKey === undefined) !== (parsed.secretKey === undefined)) {
    issues.push({
      field: parsed.accessKey ? "secretKey" : "accessKey",
      message: "accessKey and secretKey go together",
    });
  }
  if (parsed.sessionToken !== undefined && parsed.accessKey === undefined) {
    issues.push({ field: "sessionToken", message: "needs accessKey and secretKey" });
  }
  if (parsed.endpoint !== undefined && !URL.canParse(parsed.endpoint)) {
    issues.push({ field: "endpoint", message: "must be a URL such as http://localhost:8000" });
  }
  if (!parsed.region && !process.env.AWS_REGION && !process.env.AWS_DEFAULT_REGION) {
    issues.push({ field: "region", message: "is required (or set AWS_REGION)" });
  }
  // The item's own attributes would be overwritten by a key or expiry attribute of the same name.
  for (const field of ["partitionKey", "ttlAttributeName"] as const) {
    const name = parsed[field];
    if (name !== undefined && RESERVED.has(name)) {
      issues.push({ field, message: `must not be "${name}", which holds the item's ${name}` });
    }
  }
  if (parsed.ttlAttributeName !== undefined && parsed.ttlAttributeName === parsed.partitionKey) {
    issues.push({ field: "ttlAttributeName", message: "must differ from partitionKey" });
  }
  if (issues.length > 0) throw new ConfigError(issues, { component: COMPONENT_TYPE });
  return parsed;
}
