import type { IncomingMessage, ServerResponse } from "node:http";
import type { ApiContext } from "../api/context.ts";
import type { Query } from "./io.ts";

export type { ApiContext, InvocationSettings } from "../api/context.ts";

/** An HTTP route: decodes the request, calls the API core, encodes the result. */
export type Handler = (
  ctx: ApiContext,
  req: IncomingMessage,
  res: ServerResponse,
  params: Record<string, string | undefined>,
  query: Query,
) => Promise<void> | void;
