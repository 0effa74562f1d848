// The standing bad-input table: every HTTP route of the API with malformed input, and the exact
// answer each must get. Expectations that depend on another change land with that change.

export interface BadCase {
  name: string;
  method: string;
  /** Sent as is (no normalisation). */
  path: string;
  body?: string | Buffer;
  headers?: Record<string, string>;
  /** Default: the valid token is sent. */
  token?: string | null;
  status: number;
  /** `errorCode` of the JSON error body; `text:<body>` for a plain-text answer; none for no body check. */
  error?: string;
}

const S = "/v1.0/state/statestore";
const json = { "content-type": "application/json" };
const TEN_K = "k".repeat(10_000);

/** Wrong JSON types, one field at a time, per route. */
const wrongTypes: BadCase[] = [
  // state save: the body must be an array of {key, value, etag?, metadata?, options?}
  ...["{}", "1", '"x"', "null", "true", "[1]", '["k"]', "[null]"].map((body) => ({
    name: `save: body ${body}`,
    method: "POST",
    path: S,
    body,
    headers: json,
    status: 400,
    error: "ERR_MALFORMED_REQUEST",
  })),
  ...['[{"value":1}]', '[{"key":1,"value":1}]', '[{"key":"","value":1}]', '[{"key":null}]'].map(
    (body) => ({
      name: `save: key in ${body}`,
      method: "POST",
      path: S,
      body,
      headers: json,
      status: 400,
      error: "ERR_MALFORMED_REQUEST",
    }),
  ),
  {
    name: "save: key with ||",
    method: "POST",
    path: S,
    body: '[{"key":"a||b","value":1}]',
    headers: json,
    status: 400,
    error: "ERR_MALFORMED_REQUEST",
  },

  {
    name: "save: truncated JSON",
    method: "POST",
    path: S,
    body: '[{"key":"a"',
    headers: json,
    status: 400,
    error: "ERR_MALFORMED_REQUEST",
  },
  // bulk get
  ...['{"keys":"k"}', '{"keys":[1]}', "[]", '"x"', "{", '{"keys":["a||b"]}'].map((body) => ({
    name: `bulk get: ${body}`,
    method: "POST",
    path: `${S}/bulk`,
    body,
    headers: json,
    status: 400,
    error: "ERR_MALFORMED_REQUEST",
  })),
  // transaction
  ...[
    '{"operations":"x"}',
    '{"operations":[{"operation":"upsert"}]}',
    '{"operations":[{"operation":"upsert","request":{"key":1}}]}',
    "{",
  ].map((body) => ({
    name: `transaction: ${body}`,
    method: "POST",
    path: `${S}/transaction`,
    body,
    headers: json,
    status: 400,
    error: "ERR_MALFORMED_REQUEST",
  })),
  // an operation that is no operation: Dapr's own code for it
  ...[
    '{"operations":[1]}',
    '{"operations":[{"operation":"frobnicate","request":{"key":"a"}}]}',
  ].map((body) => ({
    name: `transaction: ${body}`,
    method: "POST",
    path: `${S}/transaction`,
    body,
    headers: json,
    status: 400,
    error: "ERR_NOT_SUPPORTED_STATE_OPERATION",
  })),
  // query
  ...['{"filter":1}', "{"].map((body) => ({
    name: `query: ${body}`,
    method: "POST",
    path: "/v1.0-alpha1/state/statestore/query",
    body,
    headers: json,
    status: 400,
    error: "ERR_MALFORMED_REQUEST",
  })),
  // bulk publish
  ...['{"a":1}', "1", "{", '[{"entryId":1}]'].map((body) => ({
    name: `bulk publish: ${body}`,
    method: "POST",
    path: "/v1.0-alpha1/publish/bulk/pubsub/t",
    body,
    headers: json,
    status: 400,
    error: "ERR_PUBSUB_EVENTS_SER",
  })),
  // output bindings
  ...["{", "[1"].map((body) => ({
    name: `binding: ${body}`,
    method: "POST",
    path: "/v1.0/bindings/q",
    body,
    headers: json,
    status: 400,
    error: "ERR_MALFORMED_REQUEST",
  })),
];

/** Odd keys in a path: refused by the path check or the key rules, or served as a plain key. */
const oddKeys: BadCase[] = [
  { name: "key ||", path: `${S}/a%7C%7Cb`, status: 400, error: "ERR_MALFORMED_REQUEST" },
  { name: "key ..", path: `${S}/..`, status: 400, error: "ERR_MALFORMED_REQUEST" },
  { name: "key %2e%2e", path: `${S}/%2e%2e`, status: 400, error: "ERR_MALFORMED_REQUEST" },
  { name: "key ..%2f..", path: `${S}/..%2f..`, status: 400, error: "ERR_MALFORMED_REQUEST" },
  { name: "key %00", path: `${S}/a%00`, status: 400, error: "ERR_MALFORMED_REQUEST" },
  { name: "key %zz", path: `${S}/%zz`, status: 400, error: "ERR_MALFORMED_REQUEST" },
  { name: "key a..b (not a segment)", path: `${S}/a..b`, status: 204 },
  { name: "key with encoded /", path: `${S}/a%2Fb`, status: 204 },
  { name: "key unicode", path: `${S}/${encodeURIComponent("ключ-鍵-🔑")}`, status: 204 },
  { name: "key 10k characters", path: `${S}/${TEN_K}`, status: 204 },
  {
    name: "unknown store",
    path: "/v1.0/state/nostore/k",
    status: 400,
    error: "ERR_STATE_STORE_NOT_FOUND",
  },
  {
    name: "unknown secret store",
    path: "/v1.0/secrets/nostore/k",
    status: 500,
    error: "ERR_SECRET_STORES_NOT_CONFIGURED",
  },
].map((c) => ({ method: "GET", ...c }));

/** Routes that take a body, for the oversize and token cases. */
const bodyRoutes = [
  S,
  `${S}/bulk`,
  `${S}/transaction`,
  "/v1.0-alpha1/state/statestore/query",
  "/v1.0/publish/pubsub/t",
  "/v1.0-alpha1/publish/bulk/pubsub/t",
  "/v1.0/bindings/q",
  "/v1.0/invoke/app1/method/echo",
];

const everyRoute: [string, string][] = [
  ["GET", "/v1.0/metadata"],
  ["PUT", "/v1.0/metadata/k"],
  ["POST", "/v1.0/shutdown"],
  ["GET", `${S}/k`],
  ["DELETE", `${S}/k`],
  ["GET", "/v1.0/secrets/secretstore/k"],
  ["GET", "/v1.0/secrets/secretstore/bulk"],
  ["GET", "/v1.0/healthzX"],
  ["GET", "/anything"],
  ...bodyRoutes.map((p): [string, string] => ["POST", p]),
];

const tokens: BadCase[] = everyRoute.flatMap(([method, path]) => [
  {
    name: `no token: ${method} ${path}`,
    method,
    path,
    token: null,
    status: 401,
    error: "text:invalid api token",
  },
  {
    name: `wrong token: ${method} ${path}`,
    method,
    path,
    token: "T",
    status: 401,
    error: "text:invalid api token",
  },
  {
    name: `empty token: ${method} ${path}`,
    method,
    path,
    token: "",
    status: 401,
    error: "text:invalid api token",
  },
]);

export function oversize(limit: number): BadCase[] {
  return [...bodyRoutes.map((path) => ["POST", path]), ["PUT", "/v1.0/metadata/big"]].map(
    ([method, path]) => ({
      name: `oversize: ${method} ${path}`,
      method: method as string,
      path: path as string,
      body: Buffer.alloc(limit + 1, 0x20),
      headers: json,
      status: 413,
      error: "ERR_BODY_TOO_LARGE",
    }),
  );
}

const pathTricks: BadCase[] = [
  "/v1.0/healthz/../metadata",
  "/v1.0/invoke/app1/method/../../../v1.0/metadata",
  "/v1.0/invoke/app1/method/%2e%2e/%2e%2e/admin",
  "/v1.0/state/statestore/..%5cx",
  "/v1.0/./metadata",
  "/v1.0/state\\statestore/k",
].map((path) => ({
  name: `path: ${path}`,
  method: "GET",
  path,
  status: 400,
  error: "ERR_MALFORMED_REQUEST",
}));

const misc: BadCase[] = [
  // This sidecar has no configuration store: the routes exist and say so (not 501, not invoke).
  ...[
    "/v1.0/configuration/store?key=a",
    "/v1.0-alpha1/configuration/store/subscribe?key=a",
    "/v1.0/configuration/store/some-id/unsubscribe",
  ].map((path) => ({
    name: `configuration without a store: GET ${path}`,
    method: "GET",
    path,
    status: 500,
    error: "ERR_CONFIGURATION_STORE_NOT_CONFIGURED",
  })),
  {
    name: "transaction: operations null",
    method: "POST",
    path: `${S}/transaction`,
    body: '{"operations":null}',
    headers: json,
    status: 400,
    error: "ERR_MALFORMED_REQUEST",
  },
  {
    name: "strict store: unparsable ETag on save",
    method: "POST",
    path: "/v1.0/state/strictstore",
    body: '[{"key":"k","value":1,"etag":"abc"}]',
    headers: json,
    status: 400,
    error: "ERR_STATE_SAVE",
  },
  {
    name: "strict store: unparsable If-Match on delete",
    method: "DELETE",
    path: "/v1.0/state/strictstore/k",
    headers: { "if-match": "abc" },
    status: 400,
    error: "ERR_STATE_DELETE",
  },
  {
    name: "bulk publish: duplicated entryId",
    method: "POST",
    path: "/v1.0-alpha1/publish/bulk/pubsub/t",
    body: '[{"entryId":"1","event":"x","contentType":"text/plain"},{"entryId":"1","event":"y","contentType":"text/plain"}]',
    headers: json,
    status: 400,
    error: "ERR_PUBSUB_EVENTS_SER",
  },
  {
    name: "publish: ttlInSeconds not a number",
    method: "POST",
    path: "/v1.0/publish/pubsub/t?metadata.ttlInSeconds=abc",
    body: "{}",
    headers: json,
    status: 400,
    error: "ERR_PUBSUB_REQUEST_METADATA",
  },
  {
    name: "unknown route",
    method: "GET",
    path: "/v1.0/nothing",
    status: 501,
    error: "ERR_API_UNIMPLEMENTED",
  },
  {
    name: "invoke unknown app",
    method: "GET",
    path: "/v1.0/invoke/nobody/method/x",
    status: 500,
    error: "ERR_DIRECT_INVOKE",
  },
  {
    name: "invoke a URL not allowed",
    method: "GET",
    path: `/v1.0/invoke/${encodeURIComponent("http://127.0.0.1:1")}/method/x`,
    status: 403,
    error: "ERR_DIRECT_INVOKE",
  },
  {
    name: "publish unknown pubsub",
    method: "POST",
    path: "/v1.0/publish/nopubsub/t",
    body: "{}",
    headers: json,
    status: 404,
    error: "ERR_PUBSUB_NOT_FOUND",
  },
  {
    name: "publish without topic",
    method: "POST",
    path: "/v1.0/publish/pubsub",
    body: "{}",
    headers: json,
    status: 404,
    error: "ERR_TOPIC_NAME_EMPTY",
  },
  {
    name: "unknown binding",
    method: "POST",
    path: "/v1.0/bindings/nobinding",
    body: '{"operation":"create"}',
    headers: json,
    status: 500,
    error: "ERR_INVOKE_OUTPUT_BINDING",
  },
];

/** A body with an invalid UTF-8 sequence (0xC3 0x28) inside a JSON string. */
function badUtf8(before: string, after: string): Buffer {
  return Buffer.concat([Buffer.from(before), Buffer.from([0xc3, 0x28]), Buffer.from(after)]);
}

/** Nested 5000 deep: over the 1000-level JSON limit, well under the body limit. */
const DEEP = `${"[".repeat(5000)}${"]".repeat(5000)}`;

const tx = (request: string) => `{"operations":[{"operation":"upsert","request":${request}}]}`;

/** Bodies that must be refused as a whole: a non-string ETag, invalid UTF-8, deep nesting. */
const bodies: BadCase[] = [
  ["save: numeric etag", S, '[{"key":"e","value":"x","etag":1}]'],
  [
    "save: boolean etag in the second item",
    S,
    '[{"key":"a","value":1},{"key":"b","value":2,"etag":true}]',
  ],
  ["transaction: numeric etag", `${S}/transaction`, tx('{"key":"e","value":1,"etag":1}')],
  ["save: invalid UTF-8", S, badUtf8('[{"key":"u","value":"', '"}]')],
  ["transaction: invalid UTF-8", `${S}/transaction`, badUtf8(tx('{"key":"'), '","value":1}}]}')],
  ["bulk get: invalid UTF-8", `${S}/bulk`, badUtf8('{"keys":["', '"]}')],
  [
    "query: invalid UTF-8",
    "/v1.0-alpha1/state/statestore/query",
    badUtf8('{"filter":{"EQ":{"k":"', '"}}}'),
  ],
  ["binding: invalid UTF-8", "/v1.0/bindings/q", badUtf8('{"operation":"create","data":"', '"}')],
  ["save: deep nesting", S, `[{"key":"d","value":${DEEP}}]`],
  ["transaction: deep nesting", `${S}/transaction`, tx(`{"key":"d","value":${DEEP}}`)],
  ["bulk get: deep nesting", `${S}/bulk`, `{"keys":${DEEP}}`],
  ["query: deep nesting", "/v1.0-alpha1/state/statestore/query", `{"filter":${DEEP}}`],
  ["binding: deep nesting", "/v1.0/bindings/q", `{"operation":"create","data":${DEEP}}`],
].map(([name, path, body]) => ({
  name: name as string,
  method: "POST",
  path: path as string,
  body: body as string | Buffer,
  headers: json,
  status: 400,
  error: "ERR_MALFORMED_REQUEST",
}));

const bulkPublishBodies: BadCase[] = [
  [
    "bulk publish: invalid UTF-8",
    badUtf8('[{"entryId":"1","event":"', '","contentType":"text/plain"}]'),
  ],
  [
    "bulk publish: deep nesting",
    `[{"entryId":"1","event":${DEEP},"contentType":"application/json"}]`,
  ],
].map(([name, body]) => ({
  name: name as string,
  method: "POST",
  path: "/v1.0-alpha1/publish/bulk/pubsub/t",
  body: body as string | Buffer,
  headers: json,
  status: 400,
  error: "ERR_PUBSUB_EVENTS_SER",
}));

/** Routes outrig does not implement: 501, never a 404 or an invocation. */
const unimplemented: BadCase[] = [
  // Workflows are served under v1.0 and v1.0-beta1; the early alpha form is not.
  ["GET", "/v1.0-alpha1/workflows/dapr/x"],
  ["POST", "/v1.0-alpha1/subtlecrypto/c/getkey"],
].map(([method, path]) => ({
  name: `unimplemented: ${method} ${path}`,
  method: method as string,
  path: path as string,
  body: method === "GET" ? undefined : "{}",
  headers: json,
  status: 501,
  error: "ERR_API_UNIMPLEMENTED",
}));

/** Actors: bodies are read before the actor is looked up, so a bad one is a 400 naming it. */
const actors: BadCase[] = [
  ["actors: state transaction not an array", "/v1.0/actors/a/b/state", "{}"],
  ["actors: state transaction invalid JSON", "/v1.0/actors/a/b/state", "[{"],
  ["actors: state operation not an object", "/v1.0/actors/a/b/state", "[1]"],
  ["actors: reminder not an object", "/v1.0/actors/a/b/reminders/r", "[]"],
  ["actors: reminder unknown field", "/v1.0/actors/a/b/reminders/r", '{"periodd":"1s"}'],
  ["actors: reminder period not a string", "/v1.0/actors/a/b/reminders/r", '{"period":5}'],
  ["actors: timer callback not a string", "/v1.0/actors/a/b/timers/t", '{"callback":1}'],
].map(([name, path, body]) => ({
  name: name as string,
  method: "POST",
  path: path as string,
  body: body as string,
  headers: json,
  status: 400,
  error: "ERR_MALFORMED_REQUEST",
}));

/** Cryptography on a sidecar without crypto components: Dapr's answer, the body never read. */
const crypto: BadCase[] = ["encrypt", "decrypt"].map((op) => ({
  name: `crypto: ${op} without crypto components`,
  method: "PUT",
  path: `/v1.0-alpha1/crypto/c/${op}`,
  body: "dapr.io/enc/v1\n",
  headers: json,
  status: 500,
  error: "ERR_CRYPTO_PROVIDERS_NOT_CONFIGURED",
}));

/** The Jobs API: a job without a schedule or due time, and unreadable schedules. */
const jobs: BadCase[] = [
  ["{}", "DAPR_SCHEDULER_SCHEDULE_EMPTY"],
  ['{"schedule":"every day"}', "DAPR_SCHEDULER_SCHEDULE_JOB"],
  ['{"dueTime":"soon"}', "DAPR_SCHEDULER_SCHEDULE_JOB"],
  ['{"dueTime":1}', "ERR_MALFORMED_REQUEST"],
].map(([body, error]) => ({
  name: `jobs: POST ${body}`,
  method: "POST",
  path: "/v1.0-alpha1/jobs/j",
  body: body as string,
  headers: json,
  status: 400,
  error: error as string,
}));

export const CASES: BadCase[] = [
  ...crypto,
  ...wrongTypes,
  ...bodies,
  ...bulkPublishBodies,
  ...oddKeys,
  ...tokens,
  ...pathTricks,
  ...unimplemented,
  ...actors,
  ...jobs,
  ...misc,
];
