import { randomUUID } from "node:crypto";
import type {
  AttributeValue,
  DescribeTableCommandOutput,
  DynamoDBClient,
  DynamoDBClientConfig,
  TransactWriteItem,
  WriteRequest,
} from "@aws-sdk/client-dynamodb";
import {
  type BulkGetItem,
  type BulkOptions,
  type ComponentContext,
  type ComponentError,
  type DeleteRequest,
  type GetRequest,
  type GetResponse,
  getMetadata,
  hasEtag,
  type Logger,
  type Metadata,
  mapWithParallelism,
  type OptionsInput,
  parseTtlInSeconds,
  type SetRequest,
  type StateCapability,
  silentLogger,
  type TransactionRequest,
  throwBulkFailures,
  ttlExpireTimeMetadata,
} from "@outrig/core";
import { BaseStateStore, componentErrors } from "@outrig/core/kit";
import { chunk, DEFAULT_RETRY_POLICY, type RetryPolicy, sendUntilProcessed } from "./batch.ts";
import { errorName, mapAwsError } from "./errors.ts";
import { expiryEpochSeconds, expiryMs, fromValueAttribute, toValueAttribute } from "./items.ts";
import {
  COMPONENT_TYPE,
  type DynamoDBSettings,
  dynamodbOptions,
  parseDynamoDBMetadata,
} from "./options.ts";
import {
  type Condition,
  MAX_TRANSACTION_ITEMS,
  type PlannedDelete,
  type PlannedPut,
  type PlannedWrite,
  planTransaction,
} from "./plan.ts";

/** BatchGetItem reads at most 100 keys per request, BatchWriteItem writes at most 25 items. */
const BATCH_GET_SIZE = 100;
const BATCH_WRITE_SIZE = 25;
/** Concurrent requests a bulk operation issues when the caller sets no parallelism. */
const DEFAULT_BULK_PARALLELISM = 8;

type Item = Record<string, AttributeValue>;
type Sdk = typeof import("@aws-sdk/client-dynamodb");

let sdk: Promise<Sdk> | undefined;

/**
 * The AWS SDK is loaded on first use, not when the package is imported: the sidecar imports every
 * manifest at start, and the SDK is by far the heaviest module here.
 */
function loadSdk(): Promise<Sdk> {
  sdk ??= import("@aws-sdk/client-dynamodb");
  return sdk;
}

interface ConditionParts {
  ConditionExpression?: string;
  ExpressionAttributeNames?: Record<string, string>;
  ExpressionAttributeValues?: Record<string, AttributeValue>;
}

export interface DynamoDBStateStoreOptions {
  /** Extra SDK client settings (retry strategy, custom request handler, ...), merged last. */
  clientConfig?: DynamoDBClientConfig;
  /** Backoff for items DynamoDB leaves unprocessed in batch requests. */
  batchRetry?: RetryPolicy;
}

const errors = componentErrors(COMPONENT_TYPE);

/**
 * `state.aws.dynamodb`: one item per key (`<partitionKey>`, `value`, `etag`, and the TTL attribute
 * when configured), as Dapr's DynamoDB component lays it out. ETags are random UUIDs checked by
 * conditional writes; transactions are TransactWriteItems; bulk operations use BatchGetItem and
 * BatchWriteItem, except writes with a condition, which BatchWriteItem cannot express.
 */
export class DynamoDBStateStore extends BaseStateStore {
  readonly componentType = COMPONENT_TYPE;
  readonly capabilities: ReadonlySet<StateCapability>;
  readonly #client: DynamoDBClient;
  readonly #sdk: Sdk;
  readonly #table: string;
  readonly #pk: string;
  readonly #ttl: string | undefined;
  readonly #retry: RetryPolicy;

  private constructor(
    aws: Sdk,
    client: DynamoDBClient,
    settings: DynamoDBSettings,
    retry: RetryPolicy,
    transactional: boolean,
  ) {
    super();
    this.#sdk = aws;
    this.#client = client;
    this.#table = settings.table;
    this.#pk = settings.partitionKey;
    this.#ttl = settings.ttlAttributeName;
    this.#retry = retry;
    const capabilities: StateCapability[] = ["ETAG"];
    if (transactional) capabilities.push("TRANSACTIONAL");
    // Without an expiry attribute there is nowhere to keep a TTL, so the capability is absent.
    if (this.#ttl) capabilities.push("TTL");
    // Actors need ETags and transactions; without TransactWriteItems the flag cannot be honoured.
    if (settings.actorStateStore && transactional) capabilities.push("ACTOR");
    this.capabilities = new Set(capabilities);
  }

  /** Connects and checks that the table exists with the expected hash key. */
  static async open(
    metadata: Metadata,
    context: ComponentContext = {},
    options: DynamoDBStateStoreOptions = {},
  ): Promise<DynamoDBStateStore> {
    const settings = parseDynamoDBMetadata(metadata);
    const logger = context.logger ?? silentLogger;
    const aws = await loadSdk();
    const client = new aws.DynamoDBClient({
      ...(settings.region ? { region: settings.region } : {}),
      ...(settings.endpoint ? { endpoint: settings.endpoint } : {}),
      ...(settings.accessKey && settings.secretKey
        ? {
            credentials: {
              accessKeyId: settings.accessKey,
              secretAccessKey: settings.secretKey,
              ...(settings.sessionToken ? { sessionToken: settings.sessionToken } : {}),
            },
          }
        : {}),
      requestHandler: { connectionTimeout: 5000, requestTimeout: 30_000 },
      ...options.clientConfig,
    });
    try {
      await checkTable(aws, client, settings, logger);
      const transactional = await supportsTransactions(aws, client);
      if (!transactional) {
        logger.warn(
          "the DynamoDB endpoint has no TransactWriteItems: transactions are not offered",
          {
            component: COMPONENT_TYPE,
            endpoint: settings.endpoint,
          },
        );
      }
      return new DynamoDBStateStore(
        aws,
        client,
        settings,
        options.batchRetry ?? DEFAULT_RETRY_POLICY,
        transactional,
      );
    } catch (error) {
      client.destroy();
      throw error;
    }
  }

  /** DynamoDB's TransactWriteItems limit, when transactions are offered. */
  get maxTransactionSize(): number | undefined {
    return this.capabilities.has("TRANSACTIONAL") ? MAX_TRANSACTION_ITEMS : undefined;
  }

  protected override async onPing(): Promise<void> {
    try {
      await this.#client.send(new this.#sdk.DescribeTableCommand({ TableName: this.#table }));
    } catch (error) {
      const mapped = mapAwsError(error, "ping");
      throw mapped.code === "ERR_UNAVAILABLE"
        ? mapped
        : errors.error("ERR_UNAVAILABLE", mapped.message, { cause: error });
    }
  }

  protected async getItem(request: GetRequest): Promise<GetResponse> {
    const { key } = request;
    let item: Item | undefined;
    try {
      const out = await this.#client.send(
        new this.#sdk.GetItemCommand({
          TableName: this.#table,
          Key: this.#keyOf(key),
          ConsistentRead: request.options?.consistency === "strong",
        }),
      );
      item = out.Item;
    } catch (error) {
      throw mapAwsError(error, "get");
    }
    return this.#toResponse(item, Date.now()) ?? { data: null };
  }

  protected async setItem(request: SetRequest): Promise<void> {
    await this.#put(this.#prepareSet(request));
  }

  protected async deleteItem(request: DeleteRequest): Promise<void> {
    await this.#delete(this.#prepareDelete(request));
  }

  protected override async getItems(
    requests: GetRequest[],
    options?: BulkOptions,
  ): Promise<BulkGetItem[]> {
    const consistent = requests.some((r) => r.options?.consistency === "strong");
    // BatchGetItem rejects a request that names one key twice.
    const unique = [...new Set(requests.map((r) => r.key))];
    const found = new Map<string, Item>();
    const failed = new Map<string, string>();
    await mapWithParallelism(
      chunk(unique, BATCH_GET_SIZE),
      options?.parallelism ?? DEFAULT_BULK_PARALLELISM,
      async (keys) => {
        try {
          const left = await sendUntilProcessed(
            keys.map((k) => this.#keyOf(k)),
            async (batch) => {
              const out = await this.#client.send(
                new this.#sdk.BatchGetItemCommand({
                  RequestItems: { [this.#table]: { Keys: [...batch], ConsistentRead: consistent } },
                }),
              );
              for (const item of out.Responses?.[this.#table] ?? []) {
                const k = item[this.#pk]?.S;
                if (k !== undefined) found.set(k, item);
              }
              return out.UnprocessedKeys?.[this.#table]?.Keys ?? [];
            },
            this.#retry,
          );
          for (const k of left) {
            const key = k[this.#pk]?.S as string;
            failed.set(
              key,
              `DynamoDB left the key unprocessed after ${this.#retry.maxAttempts} attempts (throttled)`,
            );
          }
        } catch (error) {
          const message = mapAwsError(error, "bulkGet").message;
          for (const k of keys) failed.set(k, message);
        }
      },
    );
    const now = Date.now();
    return requests.map(({ key }) => {
      const error = failed.get(key);
      if (error !== undefined) return { key, data: null, error };
      const res = this.#toResponse(found.get(key), now);
      if (!res) return { key, data: null, error: "" };
      return { key, ...res, data: res.data, error: "" };
    });
  }

  protected override async setItems(requests: SetRequest[], options?: BulkOptions): Promise<void> {
    await this.#bulkWrite(requests, (r) => this.#prepareSet(r), options);
  }

  protected override async deleteItems(
    requests: DeleteRequest[],
    options?: BulkOptions,
  ): Promise<void> {
    await this.#bulkWrite(requests, (r) => this.#prepareDelete(r), options);
  }

  protected override async transactItems(request: TransactionRequest): Promise<void> {
    const writes = request.operations.map(
      (op): PlannedWrite =>
        op.operation === "upsert" ? this.#prepareSet(op.request) : this.#prepareDelete(op.request),
    );
    const planned = planTransaction(writes);
    if (planned.length === 0) return;
    const now = Date.now();
    const items: TransactWriteItem[] = planned.map((w) =>
      w.op === "put"
        ? {
            Put: {
              TableName: this.#table,
              Item: this.#itemOf(w, now),
              ...this.#conditionOf(w.condition, now),
            },
          }
        : {
            Delete: {
              TableName: this.#table,
              Key: this.#keyOf(w.key),
              ...this.#conditionOf(w.condition, now),
            },
          },
    );
    try {
      await this.#client.send(new this.#sdk.TransactWriteItemsCommand({ TransactItems: items }));
    } catch (error) {
      throw this.#transactionError(error, planned);
    }
  }

  protected override async onClose(): Promise<void> {
    this.#client.destroy();
  }

  #transactionError(error: unknown, planned: readonly PlannedWrite[]): ComponentError {
    if (errorName(error) !== "TransactionCanceledException")
      return mapAwsError(error, "transaction");
    const reasons =
      (error as { CancellationReasons?: { Code?: string }[] }).CancellationReasons ?? [];
    const failedAt = reasons.findIndex((r) => r.Code === "ConditionalCheckFailed");
    if (
      failedAt !== -1 ||
      reasons.length === 0 ||
      /ConditionalCheckFailed/.test((error as Error).message)
    ) {
      const key = planned[failedAt]?.key;
      return errors.etag(
        "mismatch",
        key === undefined
          ? "transaction: a condition failed (etag mismatch or first-write conflict); nothing was written"
          : `transaction: the condition on key ${JSON.stringify(key)} failed (etag mismatch or first-write conflict); nothing was written`,
        { cause: error },
      );
    }
    if (
      reasons.some(
        (r) =>
          r.Code === "TransactionConflict" ||
          r.Code === "ThrottlingError" ||
          r.Code === "ProvisionedThroughputExceeded",
      )
    ) {
      return errors.error(
        "ERR_UNAVAILABLE",
        `transaction: cancelled by a concurrent write or throttling; retry it (${(error as Error).message})`,
        { cause: error },
      );
    }
    if (
      reasons.some(
        (r) => r.Code === "ValidationError" || r.Code === "ItemCollectionSizeLimitExceeded",
      )
    ) {
      return errors.error(
        "ERR_INVALID_REQUEST",
        `transaction: DynamoDB rejected it: ${(error as Error).message}`,
        { cause: error },
      );
    }
    return mapAwsError(error, "transaction");
  }

  /**
   * Non-atomic bulk writes. Unconditional items go through BatchWriteItem (25 per request, with
   * retries of unprocessed items); items with an ETag or first-write go through single conditional
   * requests, because BatchWriteItem cannot carry a condition.
   */
  async #bulkWrite<R extends { key: string }>(
    requests: R[],
    prepare: (r: R) => PlannedWrite,
    options: BulkOptions | undefined,
  ): Promise<void> {
    const results: PromiseSettledResult<void>[] = new Array(requests.length);
    const conditional: { index: number; write: PlannedWrite }[] = [];
    const plain = new Map<string, { indexes: number[]; write: PlannedWrite }>();
    requests.forEach((r, index) => {
      let write: PlannedWrite;
      try {
        write = prepare(r);
      } catch (reason) {
        results[index] = { status: "rejected", reason };
        return;
      }
      if (write.condition.kind !== "none") {
        conditional.push({ index, write });
        return;
      }
      // BatchWriteItem rejects a request that names one key twice: the last write wins.
      const prior = plain.get(write.key);
      plain.set(write.key, { indexes: [...(prior?.indexes ?? []), index], write });
    });
    const parallelism = options?.parallelism ?? DEFAULT_BULK_PARALLELISM;
    const now = Date.now();
    const single = mapWithParallelism(conditional, parallelism, async ({ index, write }) => {
      try {
        await (write.op === "put" ? this.#put(write) : this.#delete(write));
        results[index] = { status: "fulfilled", value: undefined };
      } catch (reason) {
        results[index] = { status: "rejected", reason };
      }
    });
    const batches = mapWithParallelism(
      chunk([...plain.values()], BATCH_WRITE_SIZE),
      parallelism,
      async (entries) => {
        const settle = (keys: Set<string> | undefined, outcome: PromiseSettledResult<void>) => {
          for (const entry of entries) {
            if (keys && !keys.has(entry.write.key)) continue;
            for (const i of entry.indexes) results[i] = outcome;
          }
        };
        try {
          const left = await sendUntilProcessed(
            entries.map(
              ({ write }): WriteRequest =>
                write.op === "put"
                  ? { PutRequest: { Item: this.#itemOf(write, now) } }
                  : { DeleteRequest: { Key: this.#keyOf(write.key) } },
            ),
            async (batch) => {
              const out = await this.#client.send(
                new this.#sdk.BatchWriteItemCommand({
                  RequestItems: { [this.#table]: [...batch] },
                }),
              );
              return out.UnprocessedItems?.[this.#table] ?? [];
            },
            this.#retry,
          );
          settle(undefined, { status: "fulfilled", value: undefined });
          if (left.length > 0) {
            const keys = new Set(
              left.map(
                (w) => (w.PutRequest?.Item ?? w.DeleteRequest?.Key)?.[this.#pk]?.S as string,
              ),
            );
            settle(keys, {
              status: "rejected",
              reason: errors.error(
                "ERR_UNAVAILABLE",
                `DynamoDB left the item unprocessed after ${this.#retry.maxAttempts} attempts (throttled)`,
              ),
            });
          }
        } catch (error) {
          settle(undefined, { status: "rejected", reason: mapAwsError(error, "batch write") });
        }
      },
    );
    await Promise.all([single, batches]);
    throwBulkFailures(
      requests.map((r) => r.key),
      results,
      COMPONENT_TYPE,
    );
  }

  async #put(write: PlannedPut): Promise<void> {
    const now = Date.now();
    try {
      await this.#client.send(
        new this.#sdk.PutItemCommand({
          TableName: this.#table,
          Item: this.#itemOf(write, now),
          ...this.#conditionOf(write.condition, now),
        }),
      );
    } catch (error) {
      if (
        errorName(error) === "ConditionalCheckFailedException" &&
        write.condition.kind === "absent"
      ) {
        throw errors.etag("mismatch", "first-write: the key already exists", { cause: error });
      }
      throw mapAwsError(error, "set");
    }
  }

  async #delete(write: PlannedDelete): Promise<void> {
    const now = Date.now();
    try {
      await this.#client.send(
        new this.#sdk.DeleteItemCommand({
          TableName: this.#table,
          Key: this.#keyOf(write.key),
          ...this.#conditionOf(write.condition, now),
        }),
      );
    } catch (error) {
      throw mapAwsError(error, "delete");
    }
  }

  #prepareSet(request: SetRequest): PlannedPut {
    const { key } = request;
    const rawTtl = getMetadata(request.metadata, "ttlInSeconds");
    if (!this.#ttl && rawTtl !== undefined && rawTtl !== "") {
      throw errors.error(
        "ERR_NOT_SUPPORTED",
        "ttlInSeconds is not supported: set the ttlAttributeName metadata to enable TTL",
      );
    }
    const ttl = parseTtlInSeconds(request.metadata);
    const condition: Condition = hasEtag(request.etag)
      ? { kind: "etag", etag: request.etag }
      : request.options?.concurrency === "first-write"
        ? { kind: "absent" }
        : { kind: "none" };
    return {
      op: "put",
      key,
      value: toValueAttribute(request.value),
      ttlSeconds: ttl !== undefined && ttl > 0 ? ttl : undefined,
      condition,
    };
  }

  #prepareDelete(request: DeleteRequest): PlannedDelete {
    const { key } = request;
    return {
      op: "delete",
      key,
      condition: hasEtag(request.etag) ? { kind: "etag", etag: request.etag } : { kind: "none" },
    };
  }

  #keyOf(key: string): Item {
    return { [this.#pk]: { S: key } };
  }

  #itemOf(write: PlannedPut, now: number): Item {
    const item: Item = {
      [this.#pk]: { S: write.key },
      value: write.value,
      etag: { S: randomUUID() },
    };
    if (this.#ttl && write.ttlSeconds !== undefined) {
      item[this.#ttl] = { N: String(expiryEpochSeconds(now, write.ttlSeconds)) };
    }
    return item;
  }

  /**
   * The condition of a write. An item past its TTL that DynamoDB has not deleted yet counts as
   * absent: it satisfies first-write and matches no ETag.
   */
  #conditionOf(condition: Condition, now: number): ConditionParts {
    if (condition.kind === "none") return {};
    const nowSeconds = { N: String(Math.floor(now / 1000)) };
    if (condition.kind === "etag") {
      return this.#ttl
        ? {
            ConditionExpression: "#etag = :etag AND (attribute_not_exists(#ttl) OR #ttl > :now)",
            ExpressionAttributeNames: { "#etag": "etag", "#ttl": this.#ttl },
            ExpressionAttributeValues: { ":etag": { S: condition.etag }, ":now": nowSeconds },
          }
        : {
            ConditionExpression: "#etag = :etag",
            ExpressionAttributeNames: { "#etag": "etag" },
            ExpressionAttributeValues: { ":etag": { S: condition.etag } },
          };
    }
    return this.#ttl
      ? {
          ConditionExpression: "attribute_not_exists(#pk) OR #ttl <= :now",
          ExpressionAttributeNames: { "#pk": this.#pk, "#ttl": this.#ttl },
          ExpressionAttributeValues: { ":now": nowSeconds },
        }
      : {
          ConditionExpression: "attribute_not_exists(#pk)",
          ExpressionAttributeNames: { "#pk": this.#pk },
        };
  }

  /** A stored item as a response, or undefined when it is missing or past its TTL. */
  #toResponse(item: Item | undefined, now: number): GetResponse | undefined {
    if (!item) return undefined;
    const expires = expiryMs(item, this.#ttl);
    if (expires !== undefined && expires <= now) return undefined;
    const metadata = ttlExpireTimeMetadata(expires);
    const value = fromValueAttribute(item.value);
    return {
      data: value?.data ?? null,
      ...(value ? { kind: value.kind } : {}),
      ...(item.etag?.S !== undefined ? { etag: item.etag.S } : {}),
      ...(metadata ? { metadata } : {}),
    };
  }
}

/** Checks that the table exists with the expected key schema; hints when TTL is not enabled. */
async function checkTable(
  aws: Sdk,
  client: DynamoDBClient,
  settings: DynamoDBSettings,
  logger: Logger,
): Promise<void> {
  let table: DescribeTableCommandOutput;
  try {
    table = await client.send(new aws.DescribeTableCommand({ TableName: settings.table }));
  } catch (error) {
    const name = errorName(error);
    if (name === "ResourceNotFoundException") {
      throw errors.config(
        [
          {
            field: "table",
            message: `table ${JSON.stringify(settings.table)} does not exist (create it with a string hash key "${settings.partitionKey}")`,
          },
        ],
        { cause: error },
      );
    }
    // Least-privilege credentials may not allow DescribeTable; the data calls will tell.
    if (name === "AccessDeniedException") {
      logger.debug("DescribeTable not permitted; skipping the table check", {
        component: COMPONENT_TYPE,
      });
      return;
    }
    throw mapAwsError(error, "connecting");
  }
  const hash = table.Table?.KeySchema?.find((k) => k.KeyType === "HASH")?.AttributeName;
  const sortKey = table.Table?.KeySchema?.find((k) => k.KeyType === "RANGE")?.AttributeName;
  if (hash !== undefined && hash !== settings.partitionKey) {
    throw errors.config([
      {
        field: "partitionKey",
        message: `the table's hash key is "${hash}", not "${settings.partitionKey}"`,
      },
    ]);
  }
  if (sortKey !== undefined) {
    throw errors.config([
      {
        field: "table",
        message: `the table has a sort key ("${sortKey}"); state needs a hash key only`,
      },
    ]);
  }
  if (settings.ttlAttributeName) {
    try {
      const ttl = await client.send(
        new aws.DescribeTimeToLiveCommand({ TableName: settings.table }),
      );
      const desc = ttl.TimeToLiveDescription;
      if (
        desc?.TimeToLiveStatus !== "ENABLED" ||
        desc.AttributeName !== settings.ttlAttributeName
      ) {
        logger.warn(
          `DynamoDB TTL is not enabled on attribute "${settings.ttlAttributeName}": expired items are hidden on reads but never deleted`,
          { component: COMPONENT_TYPE, table: settings.table },
        );
      }
    } catch {
      // Only a hint for the operator; reads hide expired items either way.
    }
  }
}

/**
 * Whether the endpoint implements TransactWriteItems. AWS always does; DynamoDB-compatible
 * emulators and databases (dynalite, ScyllaDB Alternator) may not, and a store must not declare a
 * capability it cannot deliver. An empty request is invalid everywhere it is implemented, so it
 * writes nothing.
 */
async function supportsTransactions(aws: Sdk, client: DynamoDBClient): Promise<boolean> {
  try {
    await client.send(new aws.TransactWriteItemsCommand({ TransactItems: [] }));
    return true;
  } catch (error) {
    const name = errorName(error);
    if (name === "UnknownOperationException") return false;
    if (name === "ValidationException" || name === "AccessDeniedException") return true;
    throw mapAwsError(error, "connecting");
  }
}

/**
 * Library mode: a `state.aws.dynamodb` store from typed options named as in the YAML; an
 * unknown option is a ConfigError.
 */
export async function createDynamoDBStateStore(
  metadata: DynamoDBStateStoreMetadata,
  context?: ComponentContext,
  options?: DynamoDBStateStoreOptions,
): Promise<DynamoDBStateStore> {
  return DynamoDBStateStore.open(dynamodbOptions.fromOptions(metadata), context, options);
}

/** `createDynamoDBStateStore`'s metadata: the YAML fields, typed; unknown ones are refused. */
export type DynamoDBStateStoreMetadata = OptionsInput<typeof dynamodbOptions.fields>;

/** The sidecar's path (the manifest's factory): Dapr metadata, unknown keys ignored. */
export function openDynamoDBStateStore(
  metadata: Metadata,
  context?: ComponentContext,
): Promise<DynamoDBStateStore> {
  return DynamoDBStateStore.open(metadata, context);
}
