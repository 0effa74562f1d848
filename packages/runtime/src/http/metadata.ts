import {
  getMetadata as apiGetMetadata,
  shutdown as apiShutdown,
  checkHealth,
  checkOutboundHealth,
  setMetadata,
} from "../api/metadata.ts";
import type { Handler } from "./context.ts";
import { queryValue, readBody, sendJson, sendNoContent } from "./io.ts";

export const getMetadata: Handler = (ctx, _req, res) => {
  sendJson(res, 200, apiGetMetadata(ctx));
};

export const putMetadata: Handler = async (ctx, req, res, params) => {
  setMetadata(ctx, { key: params.key as string, value: (await readBody(req)).toString("utf8") });
  sendNoContent(res);
};

export const healthz: Handler = (ctx, _req, res, _params, query) => {
  checkHealth(ctx, queryValue(query, "appid"));
  sendNoContent(res);
};

export const healthzOutbound: Handler = (ctx, _req, res) => {
  checkOutboundHealth(ctx);
  sendNoContent(res);
};

export const shutdown: Handler = (ctx, _req, res) => {
  sendNoContent(res);
  apiShutdown(ctx);
};
