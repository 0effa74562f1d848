import type { IncomingMessage, ServerResponse } from "node:http";
import { performance } from "node:perf_hooks";
import Router, { type HTTPMethod } from "find-my-way";
import type { ApiAccess } from "../api/api-allowlist.ts";
import { API_ERRORS, apiError, apiOfPath, isApiError, UNIMPLEMENTED_APIS } from "../api/errors.ts";
import { noAppIdError } from "../api/invoke.ts";
import {
  actorStateTransactionRoute,
  createActorReminder,
  createActorTimer,
  deleteActorReminder,
  deleteActorTimer,
  forwardedReminder,
  getActorReminderRoute,
  getActorStateRoute,
  invokeActorMethod,
} from "./actors.ts";
import { invokeOutputBinding } from "./bindings.ts";
import {
  getConfiguration,
  subscribeConfiguration,
  unsubscribeConfiguration,
} from "./configuration.ts";
import type { ApiContext, Handler } from "./context.ts";
import { converseAlpha1Route, converseAlpha2Route } from "./conversation.ts";
import { decrypt, encrypt } from "./crypto.ts";
import { checkPath, isHealthCheck, tokenAllows } from "./guard.ts";
import { invoke, invokeRoute } from "./invoke.ts";
import { sendError } from "./io.ts";
import { deleteJob, getJob, scheduleJob } from "./jobs.ts";
import {
  BodyTooLargeError,
  DEFAULT_MAX_BODY_SIZE,
  declaredTooLarge,
  limitBody,
  refuseAndClose,
} from "./limits.ts";
import { tryLock, unlock } from "./lock.ts";
import { getMetadata, healthz, healthzOutbound, putMetadata, shutdown } from "./metadata.ts";
import { bulkPublish, publish, publishWithoutName, publishWithoutTopic } from "./publish.ts";
import { bulkGetSecret, getSecret } from "./secrets.ts";
import { listSpans } from "./spans.ts";
import {
  bulkGetState,
  deleteState,
  getState,
  queryState,
  saveState,
  transactState,
} from "./state.ts";
import {
  getWorkflow,
  pauseWorkflow,
  purgeWorkflow,
  raiseWorkflowEvent,
  resumeWorkflow,
  startWorkflow,
  terminateWorkflow,
} from "./workflows.ts";

const WRITE: HTTPMethod[] = ["POST", "PUT"];
const METHODS: HTTPMethod[] = ["GET", "POST", "PUT", "DELETE", "PATCH"];

export interface ApiOptions {
  /** When set, every request but the health checks needs `dapr-api-token: <token>`. */
  apiToken?: string | undefined;
  enableApiLogging?: boolean | undefined;
  /** The Configuration's `logging.apiLogging.obfuscateURLs` and `omitHealthChecks`. */
  apiLogging?: { obfuscateURLs: boolean; omitHealthChecks: boolean } | undefined;
  /** Bytes a request body may have (413 past it); default 4 MiB. */
  maxBodySize?: number | undefined;
  /** Called for each request that passed the path and token checks. */
  onAdmitted?: ((req: IncomingMessage, res: ServerResponse) => void) | undefined;
  /** Called with the route template a request matched (`/v1.0/state/:store`), for metrics. */
  onRouted?: ((req: IncomingMessage, route: string) => void) | undefined;
  /** The Configuration's `api` lists; a route they refuse is not registered, as in daprd. */
  access?: ApiAccess | undefined;
}

/** What the router keeps per route: the adapter and the template it was registered under. */
interface RouteStore {
  handler: Handler;
  path: string;
}

type Routes = Router.Instance<Router.HTTPVersion.V1>;

const newRouter = (): Routes =>
  Router({ ignoreTrailingSlash: true, ignoreDuplicateSlashes: true, maxParamLength: 16_384 });

/** The served routes, and those the `api` lists refuse (known only to answer as daprd does). */
function buildRouter(access: ApiAccess | undefined): { router: Routes; refused: Routes } {
  const served = newRouter();
  const refused = newRouter();
  const pick = (path: string) => (!access || access.httpServes(path) ? served : refused);
  const on = (methods: HTTPMethod | HTTPMethod[], path: string, handler: Handler): void => {
    pick(path).on(methods, path, () => undefined, { handler, path } satisfies RouteStore);
  };
  const all = (path: string, handler: Handler): void => {
    pick(path).all(path, () => undefined, { handler, path } satisfies RouteStore);
  };
  on("GET", "/v1.0/healthz", healthz);
  on("GET", "/v1.0/healthz/outbound", healthzOutbound);
  on("POST", "/v1.0/shutdown", shutdown);
  on("GET", "/v1.0/metadata", getMetadata);
  on("PUT", "/v1.0/metadata/:key", putMetadata);

  on(WRITE, "/v1.0/state/:store", saveState);
  on("GET", "/v1.0/state/:store/:key", getState);
  on("DELETE", "/v1.0/state/:store/:key", deleteState);
  on(WRITE, "/v1.0/state/:store/bulk", bulkGetState);
  on(WRITE, "/v1.0/state/:store/transaction", transactState);
  on(WRITE, "/v1.0-alpha1/state/:store/query", queryState);

  on(WRITE, "/v1.0/publish", publishWithoutName);
  on(WRITE, "/v1.0/publish/:pubsub", publishWithoutTopic);
  on(WRITE, "/v1.0/publish/:pubsub/*", publish);
  for (const version of ["v1.0", "v1.0-alpha1"]) {
    on(WRITE, `/${version}/publish/bulk/:pubsub`, publishWithoutTopic);
    on(WRITE, `/${version}/publish/bulk/:pubsub/*`, bulkPublish);
  }

  on(WRITE, "/v1.0/bindings/:name", invokeOutputBinding);
  on("GET", "/v1.0/secrets/:store/bulk", bulkGetSecret);
  on("PUT", "/v1.0-alpha1/crypto/:name/encrypt", encrypt);
  on("PUT", "/v1.0-alpha1/crypto/:name/decrypt", decrypt);
  on("GET", "/v1.0/secrets/:store/:key", getSecret);
  for (const version of ["v1.0", "v1.0-alpha1"]) {
    on("GET", `/${version}/configuration/:store`, getConfiguration);
    on("GET", `/${version}/configuration/:store/subscribe`, subscribeConfiguration);
    on("GET", `/${version}/configuration/:store/:id/unsubscribe`, unsubscribeConfiguration);
    on("POST", `/${version}/jobs/:name`, scheduleJob);
    on("GET", `/${version}/jobs/:name`, getJob);
    on("DELETE", `/${version}/jobs/:name`, deleteJob);
  }
  const actor = "/v1.0/actors/:type/:id";
  on(["GET", "POST", "PUT", "DELETE"], `${actor}/method/:method`, invokeActorMethod);
  on(WRITE, `${actor}/state`, actorStateTransactionRoute);
  on("GET", `${actor}/state/:key`, getActorStateRoute);
  on(WRITE, `${actor}/reminders/:name`, createActorReminder);
  on("GET", `${actor}/reminders/:name`, getActorReminderRoute);
  on("DELETE", `${actor}/reminders/:name`, deleteActorReminder);
  on(WRITE, `${actor}/timers/:name`, createActorTimer);
  on("DELETE", `${actor}/timers/:name`, deleteActorTimer);
  on("POST", `${actor}/outrig-forwarded-reminders/:name`, forwardedReminder);
  for (const version of ["v1.0", "v1.0-beta1"]) {
    const base = `/${version}/workflows/:component`;
    on("POST", `${base}/:name/start`, startWorkflow);
    on("GET", `${base}/:instanceId`, getWorkflow);
    on("POST", `${base}/:instanceId/raiseEvent/:event`, raiseWorkflowEvent);
    on("POST", `${base}/:instanceId/terminate`, terminateWorkflow);
    on("POST", `${base}/:instanceId/pause`, pauseWorkflow);
    on("POST", `${base}/:instanceId/resume`, resumeWorkflow);
    on("POST", `${base}/:instanceId/purge`, purgeWorkflow);
  }
  on(WRITE, "/v1.0-alpha1/lock/:store", tryLock);
  on(WRITE, "/v1.0-alpha1/unlock/:store", unlock);
  on("POST", "/v1.0-alpha2/conversation/:name/converse", converseAlpha2Route);
  on("POST", "/v1.0-alpha1/conversation/:name/converse", converseAlpha1Route);
  all("/v1.0/invoke/:appId/method/*", invokeRoute);
  on("GET", "/outrig/v1/spans", listSpans);
  for (const { api, http } of UNIMPLEMENTED_APIS) {
    const unimplemented: Handler = () => {
      throw apiError("API_UNIMPLEMENTED", { api });
    };
    for (const prefix of http) {
      all(prefix, unimplemented);
      all(`${prefix}/*`, unimplemented);
    }
  }
  return { router: served, refused };
}

/** What daprd's router answers for a path nothing serves once the invoke fallback is refused. */
function sendNotFound(res: ServerResponse): void {
  const body = "404 page not found\n";
  res.writeHead(404, {
    "content-type": "text/plain; charset=utf-8",
    "x-content-type-options": "nosniff",
    "content-length": Buffer.byteLength(body),
  });
  res.end(body);
}

/** The app id named by the `dapr-app-id` header or by basic auth user `dapr-app-id`. */
function headerAppId(req: IncomingMessage): string | undefined {
  const header = req.headers["dapr-app-id"];
  if (typeof header === "string" && header) return header;
  const auth = req.headers.authorization;
  if (auth?.startsWith("Basic ")) {
    const [user, password] = Buffer.from(auth.slice(6), "base64").toString("utf8").split(":");
    if (user === "dapr-app-id" && password) return password;
  }
  return undefined;
}

/** The request listener serving Dapr's HTTP API v1.0 over `ctx`. */
export function createApiHandler(
  ctx: ApiContext,
  options: ApiOptions = {},
): (req: IncomingMessage, res: ServerResponse) => void {
  const { router, refused } = buildRouter(options.access);
  // daprd's dapr-app-id fallback belongs to the invoke API; refused, nothing catches a stray path.
  const fallback = options.access?.httpFallback ?? true;
  const maxBodySize = options.maxBodySize ?? DEFAULT_MAX_BODY_SIZE;
  const serve = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    // Path and token are checked before any routing; a refused request's body is never read.
    const checked = checkPath(req.url);
    if ("status" in checked) {
      refuseAndClose(
        res,
        checked.status,
        JSON.stringify({ errorCode: checked.errorCode, message: checked.message }),
      );
      return;
    }
    if (!tokenAllows(req, checked.path, options.apiToken)) {
      const invalid = API_ERRORS.INVALID_API_TOKEN;
      refuseAndClose(res, invalid.http, invalid.message, "text/plain");
      return;
    }
    options.onAdmitted?.(req, res);
    if (declaredTooLarge(req, res, maxBodySize)) return;
    limitBody(req, res, maxBodySize);
    const route = router.find(req.method as HTTPMethod, checked.path + checked.query);
    if (!route) {
      const viaHeader = headerAppId(req);
      // Unrouted paths share one label, so random paths cannot grow the metrics without bound.
      options.onRouted?.(req, viaHeader ? "/v1.0/invoke/:appId/method/*" : "");
      // A refused route answers as if it were not there (daprd does not register it).
      const isRefused = refused.find(req.method as HTTPMethod, checked.path + checked.query);
      const api = isRefused ? undefined : apiOfPath(checked.path);
      if (api) {
        // Dapr's API space: a served path with another method, or a building block outrig
        // does not serve; never the invocation fallback's "no app id".
        const allowed = METHODS.filter((m) => router.find(m, checked.path + checked.query));
        if (allowed.length > 0) {
          res.setHeader("allow", allowed.join(", "));
          throw apiError("METHOD_NOT_ALLOWED", {
            method: req.method,
            path: checked.path,
            allowed: allowed.join(", "),
          });
        }
        if (!viaHeader) throw apiError("API_UNIMPLEMENTED", { api });
      }
      if (!fallback) {
        sendNotFound(res);
        return;
      }
      // As daprd's fallback route: an unmatched path is a method of the app named by the
      // dapr-app-id header (or basic auth), else there is nothing to call.
      if (viaHeader) return invoke(ctx, req, res, viaHeader, checked.path.replace(/^\/+/, ""));
      sendError(res, noAppIdError());
      return;
    }
    const { handler, path } = route.store as RouteStore;
    if (options.enableApiLogging) routed.set(req, path);
    options.onRouted?.(req, path);
    await handler(ctx, req, res, route.params, route.searchParams as Record<string, string>);
  };
  const routed = new WeakMap<IncomingMessage, string>();
  const { obfuscateURLs = false, omitHealthChecks = false } = options.apiLogging ?? {};
  return (req, res) => {
    const began = options.enableApiLogging ? performance.now() : 0;
    const path = options.enableApiLogging ? ((req.url ?? "").split("?")[0] ?? "") : "";
    if (options.enableApiLogging && !(omitHealthChecks && isHealthCheck(req.method, path))) {
      res.once("finish", () =>
        ctx.logger.info("HTTP API called", {
          method: req.method,
          // An unrouted path has no template; obfuscated, it is not logged at all.
          path: obfuscateURLs ? (routed.get(req) ?? "") : path,
          status: res.statusCode,
          ms: Number((performance.now() - began).toFixed(2)),
        }),
      );
    }
    serve(req, res).catch((error: unknown) => {
      if (error instanceof BodyTooLargeError) return; // answered 413 already
      if (!isApiError(error))
        ctx.logger.error("unhandled API error", { error: (error as Error).message, path: req.url });
      if (!res.headersSent)
        sendError(
          res,
          isApiError(error) ? error : apiError("INTERNAL", { detail: (error as Error).message }),
        );
      else if (!res.writableEnded) res.destroy();
    });
  };
}
