import type { Component } from "./component.ts";
import type { Metadata } from "./metadata.ts";

export const BINDING_DIRECTIONS = ["input", "output"] as const;
export type BindingDirection = (typeof BINDING_DIRECTIONS)[number];

export interface BindingEvent {
  data: Uint8Array;
  metadata: Metadata;
  contentType?: string;
}

/** Resolving acknowledges the event (optionally with a reply); throwing reports failure. */
// biome-ignore lint/suspicious/noConfusingVoidType: lets plain `async () => {}` handlers type-check
export type BindingHandler = (event: BindingEvent) => Promise<Uint8Array | null | undefined | void>;

export interface InputBinding extends Component {
  /** Resolves once reading started; delivers until the signal aborts or the binding closes. */
  read(handler: BindingHandler, signal?: AbortSignal): Promise<void>;
}

/** Standard operations; components add their own (`increment`, `exec`, `query`, ...). */
export const STANDARD_OPERATIONS = ["create", "get", "delete", "list"] as const;

export interface InvokeRequest {
  operation: string;
  data?: Uint8Array;
  metadata?: Metadata;
}

export interface InvokeResponse {
  data?: Uint8Array | null;
  metadata?: Metadata;
  contentType?: string;
}

export interface OutputBinding extends Component {
  operations(): readonly string[];
  /** Rejects with ERR_NOT_SUPPORTED for an operation not in `operations()`. */
  invoke(request: InvokeRequest): Promise<InvokeResponse>;
}

export function isInputBinding(c: unknown): c is InputBinding {
  return typeof (c as InputBinding | undefined)?.read === "function";
}

export function isOutputBinding(c: unknown): c is OutputBinding {
  return typeof (c as OutputBinding | undefined)?.invoke === "function";
}
