import type { ApiContext } from "../api/context.ts";
import { type ApiErrorKind, apiError, isApiError } from "../api/errors.ts";
import { statusName, type WorkflowEngine } from "../workflows/engine.ts";
import type { Handler } from "./context.ts";
import { type Query, queryValue, readBody, sendJson } from "./io.ts";

// Dapr's HTTP workflow API (`/v1.0[-beta1]/workflows/dapr/...`) over the workflow engine, with
// daprd's checks and answers: 202 for every change, the instance as JSON for a GET.

/** The one workflow component daprd serves: its built-in engine. */
const COMPONENT = "dapr";
/** daprd's limit and alphabet for instance ids given over HTTP. */
const MAX_INSTANCE_ID = 64;
const INSTANCE_ID = /^[a-zA-Z0-9_-]+$/;

function engineOf(ctx: ApiContext, component: string | undefined): WorkflowEngine {
  if (component !== COMPONENT) throw apiError("WORKFLOW_COMPONENT_NOT_FOUND", { name: component });
  if (!ctx.workflows) throw apiError("WORKFLOW_ENGINE_MISSING");
  return ctx.workflows;
}

function instanceIdOf(params: Record<string, string | undefined>): string {
  const id = params.instanceId;
  if (!id) throw apiError("WORKFLOW_INSTANCE_ID_MISSING");
  return id;
}

/** Runs `fn`; a failure that is not already one of Dapr's answers becomes `kind`. */
async function as<T>(kind: ApiErrorKind, id: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (error) {
    if (isApiError(error)) throw error;
    throw apiError(kind, { id, name: id, error: (error as Error).message }, { cause: error });
  }
}

function accepted(res: Parameters<Handler>[2]): void {
  res.writeHead(202);
  res.end();
}

const recursive = (query: Query): boolean => queryValue(query, "non_recursive") !== "true";

export const startWorkflow: Handler = async (ctx, req, res, params, query) => {
  const engine = engineOf(ctx, params.component);
  const name = params.name;
  if (!name) throw apiError("WORKFLOW_NAME_MISSING");
  const requested = queryValue(query, "instanceID");
  if (requested !== undefined) {
    if (requested.length > MAX_INSTANCE_ID)
      throw apiError("WORKFLOW_INSTANCE_ID_TOO_LONG", { max: MAX_INSTANCE_ID });
    if (!INSTANCE_ID.test(requested))
      throw apiError("WORKFLOW_INSTANCE_ID_INVALID", { id: requested });
  }
  const body = await readBody(req);
  const instanceId = await as("WORKFLOW_START", name, () =>
    engine.startInstance({
      name,
      instanceId: requested,
      input: body.length > 0 ? body.toString("utf8") : undefined,
    }),
  );
  sendJson(res, 202, { instanceID: instanceId });
};

export const getWorkflow: Handler = async (ctx, _req, res, params) => {
  const engine = engineOf(ctx, params.component);
  const id = instanceIdOf(params);
  const meta = await as("WORKFLOW_GET", id, () => engine.getInstance(id));
  if (!meta) throw apiError("WORKFLOW_NOT_FOUND", { id });
  const properties: Record<string, string> = {};
  if (meta.input !== undefined) properties["dapr.workflow.input"] = meta.input;
  if (meta.output !== undefined) properties["dapr.workflow.output"] = meta.output;
  if (meta.customStatus !== undefined)
    properties["dapr.workflow.custom_status"] = meta.customStatus;
  if (meta.failure) {
    properties["dapr.workflow.failure.error_type"] = meta.failure.errorType ?? "";
    properties["dapr.workflow.failure.error_message"] = meta.failure.errorMessage ?? "";
  }
  sendJson(res, 200, {
    instanceID: id,
    workflowName: meta.name,
    createdAt: new Date(meta.createdAt).toISOString(),
    lastUpdatedAt: new Date(meta.updatedAt).toISOString(),
    runtimeStatus: statusName(meta.status),
    properties,
  });
};

export const raiseWorkflowEvent: Handler = async (ctx, req, res, params) => {
  const engine = engineOf(ctx, params.component);
  const id = instanceIdOf(params);
  if (!params.event) throw apiError("WORKFLOW_EVENT_NAME_MISSING");
  const body = await readBody(req);
  await as("WORKFLOW_RAISE_EVENT", id, () =>
    engine.raiseEvent(
      id,
      params.event as string,
      body.length > 0 ? body.toString("utf8") : undefined,
    ),
  );
  accepted(res);
};

export const terminateWorkflow: Handler = async (ctx, _req, res, params, query) => {
  const engine = engineOf(ctx, params.component);
  const id = instanceIdOf(params);
  await as("WORKFLOW_TERMINATE", id, () => engine.terminate(id, undefined, recursive(query)));
  accepted(res);
};

export const pauseWorkflow: Handler = async (ctx, _req, res, params) => {
  const engine = engineOf(ctx, params.component);
  const id = instanceIdOf(params);
  await as("WORKFLOW_PAUSE", id, () => engine.suspend(id, undefined));
  accepted(res);
};

export const resumeWorkflow: Handler = async (ctx, _req, res, params) => {
  const engine = engineOf(ctx, params.component);
  const id = instanceIdOf(params);
  await as("WORKFLOW_RESUME", id, () => engine.resume(id, undefined));
  accepted(res);
};

export const purgeWorkflow: Handler = async (ctx, _req, res, params, query) => {
  const engine = engineOf(ctx, params.component);
  const id = instanceIdOf(params);
  await as("WORKFLOW_PURGE", id, () => engine.purge(id, recursive(query)));
  accepted(res);
};
