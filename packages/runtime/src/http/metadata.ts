import type { Handler } from "./context.ts";
import { apiError } from "./errors.ts";
import { queryValue, readBody, sendError, sendJson, sendNoContent } from "./io.ts";

export const getMetadata: Handler = (ctx, _req, res) => {
  sendJson(res, 200, ctx.metadata());
};

export const putMetadata: Handler = async (ctx, req, res, params) => {
  ctx.extended[params.key as string] = (await readBody(req)).toString("utf8");
  sendNoContent(res);
};

export const healthz: Handler = (ctx, _req, res, _params, query) => {
  const appid = queryValue(query, "appid");
  if (appid !== undefined && appid !== ctx.appId) {
    return sendError(
      res,
      apiError(500, "ERR_HEALTH_APPID_NOT_MATCH", "dapr app-id does not match"),
    );
  }
  if (!ctx.health.ready)
    return sendError(res, apiError(500, "ERR_HEALTH_NOT_READY", "dapr is not ready"));
  sendNoContent(res);
};

export const healthzOutbound: Handler = (ctx, _req, res) => {
  if (!ctx.health.outbound) {
    return sendError(
      res,
      apiError(500, "ERR_OUTBOUND_HEALTH_NOT_READY", "dapr outbound is not ready"),
    );
  }
  sendNoContent(res);
};

export const shutdown: Handler = (ctx, _req, res) => {
  sendNoContent(res);
  setImmediate(ctx.shutdown);
};
