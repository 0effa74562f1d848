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
  return bodyRoutes.map((path) => ({
    name: `oversize: ${path}`,
    method: "POST",
    path,
    body: Buffer.alloc(limit + 1, 0x20),
    headers: json,
    status: 413,
    error: "ERR_BODY_TOO_LARGE",
  }));
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
  {
    name: "unknown route",
    method: "GET",
    path: "/v1.0/nothing",
    status: 404,
    error: "ERR_DIRECT_INVOKE",
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

export const CASES: BadCase[] = [...wrongTypes, ...oddKeys, ...tokens, ...pathTricks, ...misc];
