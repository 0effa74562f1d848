import { describe, expect, it } from "vitest";
import type { SidecarBindingConfig } from "./config.ts";
import type { SidecarSuiteContext } from "./context.ts";
import { call, errorCode } from "./http.ts";

const BINDING = "binding";
/** Where the sidecar delivers the binding's input events (Dapr's default: the component name). */
export const INPUT_ROUTE = `/${BINDING}`;

/**
 * Bindings through the sidecar: the output side invoked with `POST /v1.0/bindings/binding`, the
 * input side's events POSTed to the app's route. A direction the binding does not have (per
 * `/v1.0/metadata`) gets the error daprd answers.
 */
export function describeSidecarBinding(
  ctx: SidecarSuiteContext,
  config: SidecarBindingConfig,
): void {
  const caps = ctx.capabilities(BINDING);
  const timeout = config.deliveryTimeoutMs ?? 20_000;
  const invoke = (body: unknown) => call(ctx.url(), "POST", `/v1.0/bindings/${BINDING}`, body);

  describe("bindings", { concurrent: true }, () => {
    if (caps.has("OUTPUT_BINDING")) {
      if (!config.output) throw new Error(`${BINDING} is an output binding: give output`);
      const output = config.output;
      it(`output: ${config.readBack ? "what the operation writes reads back" : "the operation succeeds"}`, async () => {
        const id = `${ctx.runId}-out`;
        const sent = output(id);
        const got = await invoke(sent);
        expect([200, 204]).toContain(got.status);
        if (config.readBack) {
          const back = await invoke(config.readBack(id));
          expect(back.status).toBe(200);
          expect(back.json).toEqual(sent.data);
        }
      });

      it("output: an operation the binding does not have is 500 ERR_INVOKE_OUTPUT_BINDING", async () => {
        const got = await invoke({ operation: "no-such-operation", data: {} });
        expect(got.status).toBe(500);
        expect(errorCode(got)).toBe("ERR_INVOKE_OUTPUT_BINDING");
      });
    } else {
      it("not an output binding: invoking it is 500 ERR_INVOKE_OUTPUT_BINDING", async () => {
        const got = await invoke({ operation: "create", data: {} });
        expect(got.status).toBe(500);
        expect(errorCode(got)).toBe("ERR_INVOKE_OUTPUT_BINDING");
      });
    }

    if (caps.has("INPUT_BINDING")) {
      const mode = config.input;
      if (!mode) throw new Error(`${BINDING} is an input binding: give input`);
      it(`input: events reach the app's route (${mode})`, async () => {
        if (mode === "round-trip") {
          if (!config.output) throw new Error("input round-trip needs output");
          const sent = config.output(`${ctx.runId}-in`);
          const reply = await invoke(sent);
          expect([200, 204]).toContain(reply.status);
          const [got] = await ctx.app.waitFor(
            (r) =>
              r.path === INPUT_ROUTE && r.method === "POST" && r.body.includes(`${ctx.runId}-in`),
            timeout,
          );
          expect(got?.json ?? got?.body).toEqual(sent.data);
        } else {
          const [got] = await ctx.app.waitFor(
            (r) => r.path === INPUT_ROUTE && r.method === "POST",
            timeout,
          );
          expect(got?.method).toBe("POST");
        }
      });
    }
  });
}
