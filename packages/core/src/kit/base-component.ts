import type { Component } from "../component.ts";
import type { ComponentError } from "../errors.ts";
import { type ComponentErrors, componentErrors } from "./errors.ts";
import { Subscriptions } from "./subscriptions.ts";

/**
 * The lifecycle every component shares, written once: `ping` and every operation refuse with
 * ERR_CLOSED after `close`; `close` is idempotent (a second call waits for the first), stops
 * every tracked subscription, then runs `onClose`. The factory (`ComponentFactory`) is the init:
 * it parses options, connects, and constructs the component.
 */
export abstract class BaseComponent implements Component {
  /** Dapr's component type, e.g. `state.redis`; names the component in its errors. */
  abstract readonly componentType: string;
  /** The ERR_CLOSED message; each kind names itself ("the store is closed"). */
  protected readonly closedMessage: string = "the component is closed";
  /** Subscriptions and reads, ended together on close. */
  protected readonly subscriptions = new Subscriptions();
  #errors: ComponentErrors | undefined;
  #closing: Promise<void> | undefined;
  #closingController: AbortController | undefined;

  /** Errors naming this component (`componentType` is a subclass field, so bound lazily). */
  protected get errors(): ComponentErrors {
    this.#errors ??= componentErrors(this.componentType);
    return this.#errors;
  }

  /** True from the moment `close` is first called. */
  protected get closed(): boolean {
    return this.#closing !== undefined;
  }

  /** Aborts (with the ERR_CLOSED error) when `close` is called: for calls in flight to give up. */
  protected get closingSignal(): AbortSignal {
    this.#closingController ??= new AbortController();
    if (this.#closing && !this.#closingController.signal.aborted) {
      this.#closingController.abort(this.closedError());
    }
    return this.#closingController.signal;
  }

  /** The closed guard: throws ERR_CLOSED once `close` was called. */
  protected checkOpen(operation?: string): void {
    if (this.#closing) throw this.closedError(operation);
  }

  /** ERR_NOT_SUPPORTED for `operation` unless `capability` is declared. */
  protected requireCapability<C>(
    capabilities: ReadonlySet<C>,
    capability: C,
    operation: string,
  ): void {
    if (!capabilities.has(capability)) throw this.errors.notSupported(operation);
  }

  protected closedError(operation?: string): ComponentError {
    return this.errors.error(
      "ERR_CLOSED",
      operation ? `${operation}: ${this.closedMessage}` : this.closedMessage,
    );
  }

  async ping(): Promise<void> {
    this.checkOpen();
    await this.onPing();
  }

  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  /** Checks the backend answers; rejects with ERR_UNAVAILABLE otherwise. Default: nothing to check. */
  protected async onPing(): Promise<void> {}

  /** Releases what the component holds, after its subscriptions stopped. Runs once. */
  protected async onClose(): Promise<void> {}

  async #close(): Promise<void> {
    this.#closingController?.abort(this.closedError());
    await this.subscriptions.closeAll();
    await this.onClose();
  }
}
