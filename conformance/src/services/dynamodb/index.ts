import { defineTestService } from "../definition.ts";
import { startContainer, useExternal } from "../service.ts";
import type { ServiceHandle, StartServiceOptions } from "../types.ts";
import image from "./image/image.json" with { type: "json" };
import { pingDynamoDB } from "./probe.ts";

/** The dynamodb test service: its image (./image/image.json) and the variable that names a running one. */
export const dynamodbDefinition = defineTestService({
  name: "dynamodb",
  image,
  override: { variable: "OUTRIG_TEST_DYNAMODB_ENDPOINT", value: (service) => service.url },
});

const OVERRIDE = dynamodbDefinition.override.variable;

export interface DynamoDBService extends ServiceHandle {
  readonly name: "dynamodb";
  /** `http://host:port`, for the AWS SDK's `endpoint`. */
  readonly endpoint: string;
  readonly region: string;
  /** Any credentials work against the emulator; these are what the SDK should be given. */
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
}

const REGION = "us-east-1";
const CREDENTIALS = { accessKeyId: "outrig", secretAccessKey: "outrig" };

/**
 * A DynamoDB API emulator in a container (moto's DynamoDB by default: in memory, any credentials,
 * transactions and TTL settings; expired items are not deleted), or
 * the endpoint `OUTRIG_TEST_DYNAMODB_ENDPOINT` names (`http://host:port`).
 */
export async function startDynamoDB(options: StartServiceOptions = {}): Promise<DynamoDBService> {
  const override = options.container ? undefined : process.env[OVERRIDE];
  if (override) {
    const url = new URL(override);
    const port = Number(url.port || (url.protocol === "https:" ? 443 : 80));
    const endpoint = override.replace(/\/$/, "");
    const base = await useExternal(
      dynamodbDefinition,
      url.hostname,
      port,
      () => pingDynamoDB(endpoint, REGION),
      options.readyTimeoutMs,
    );
    return { ...base, name: "dynamodb", url: endpoint, endpoint, region: REGION, ...CREDENTIALS };
  }
  const base = await startContainer(
    {
      service: dynamodbDefinition,
      containerPort: 8000,
      probe: (host, port) => pingDynamoDB(`http://${host}:${port}`, REGION),
    },
    options,
  );
  const endpoint = `http://${base.host}:${base.port}`;
  return { ...base, name: "dynamodb", url: endpoint, endpoint, region: REGION, ...CREDENTIALS };
}
