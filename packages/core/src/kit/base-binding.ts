import type {
  BindingHandler,
  InputBinding,
  InvokeRequest,
  InvokeResponse,
  OutputBinding,
} from "../bindings.ts";
import { BaseComponent } from "./base-component.ts";
import type { StopFunction } from "./subscriptions.ts";

/**
 * What every binding shares: the closed guard ("the binding is closed"), the operation rule of
 * `invoke` (case-insensitive, one of `operations()`, ERR_NOT_SUPPORTED naming it otherwise) and
 * the reading rule of `read` (not started when the signal is already aborted; stopped when it
 * aborts or the binding closes). `BaseOutputBinding`, `BaseInputBinding` and `BaseBinding` (both
 * directions) expose the public methods, so `isInputBinding`/`isOutputBinding` stay truthful.
 */
abstract class BindingCore extends BaseComponent {
  protected override readonly closedMessage: string = "the binding is closed";

  /** The operation `invoke` was asked for, lowercased; refused when not in `operations()`. */
  protected resolveOperation(request: InvokeRequest): string {
    const operation = String(request.operation).toLowerCase();
    if (!this.operationNames().includes(operation)) {
      throw this.errors.notSupported(`operation ${JSON.stringify(request.operation)}`);
    }
    return operation;
  }

  protected operationNames(): readonly string[] {
    return [];
  }

  protected async invokeWith(
    request: InvokeRequest,
    run: (operation: string, request: InvokeRequest) => Promise<InvokeResponse>,
  ): Promise<InvokeResponse> {
    this.checkOpen();
    return run(this.resolveOperation(request), request);
  }

  protected async readWith(
    handler: BindingHandler,
    signal: AbortSignal | undefined,
    start: (handler: BindingHandler, signal?: AbortSignal) => Promise<StopFunction>,
  ): Promise<void> {
    this.checkOpen();
    if (signal?.aborted) return;
    this.subscriptions.add(await start(handler, signal), signal);
  }
}

/** An output binding: implement `operations()` and `invokeOperation`. */
export abstract class BaseOutputBinding extends BindingCore implements OutputBinding {
  abstract operations(): readonly string[];
  /** Runs a valid, lowercased operation of `operations()`. */
  protected abstract invokeOperation(
    operation: string,
    request: InvokeRequest,
  ): Promise<InvokeResponse>;

  protected override operationNames(): readonly string[] {
    return this.operations();
  }

  async invoke(request: InvokeRequest): Promise<InvokeResponse> {
    return this.invokeWith(request, (operation, r) => this.invokeOperation(operation, r));
  }
}

/** An input binding: implement `startReading`, returning how to stop that read. */
export abstract class BaseInputBinding extends BindingCore implements InputBinding {
  protected abstract startReading(
    handler: BindingHandler,
    signal?: AbortSignal,
  ): Promise<StopFunction>;

  async read(handler: BindingHandler, signal?: AbortSignal): Promise<void> {
    return this.readWith(handler, signal, (h, s) => this.startReading(h, s));
  }
}

/** A binding in both directions. */
export abstract class BaseBinding extends BindingCore implements InputBinding, OutputBinding {
  abstract operations(): readonly string[];
  protected abstract invokeOperation(
    operation: string,
    request: InvokeRequest,
  ): Promise<InvokeResponse>;
  protected abstract startReading(
    handler: BindingHandler,
    signal?: AbortSignal,
  ): Promise<StopFunction>;

  protected override operationNames(): readonly string[] {
    return this.operations();
  }

  async invoke(request: InvokeRequest): Promise<InvokeResponse> {
    return this.invokeWith(request, (operation, r) => this.invokeOperation(operation, r));
  }

  async read(handler: BindingHandler, signal?: AbortSignal): Promise<void> {
    return this.readWith(handler, signal, (h, s) => this.startReading(h, s));
  }
}
