import { apiError } from "../api/errors.ts";
import type { Handler } from "./context.ts";
import { queryValue, sendJson } from "./io.ts";

/**
 * `GET /outrig/v1/spans[?limit=N]`: the sidecar's recently finished spans, oldest first (outrig's
 * own, outside Dapr's API space); none while tracing is off.
 */
export const listSpans: Handler = (ctx, _req, res, _params, query) => {
  const raw = queryValue(query, "limit");
  let limit: number | undefined;
  if (raw !== undefined) {
    limit = Number(raw);
    if (!/^\d+$/.test(raw) || !Number.isSafeInteger(limit) || limit <= 0)
      throw apiError("MALFORMED_REQUEST", {
        detail: `limit must be a positive integer, got ${JSON.stringify(raw)}`,
      });
  }
  sendJson(res, 200, { spans: ctx.spans?.recent(limit) ?? [] });
};
