import { performance } from "node:perf_hooks";
import type {
  Attributes,
  AttributeValue,
  Exception,
  HrTime,
  Link,
  SpanAttributes,
  SpanContext,
  SpanKind,
  Span as SpanOfApi,
  SpanStatus,
  TimeInput,
} from "@opentelemetry/api";
import { SpanStatusCode } from "@opentelemetry/api";
import {
  hrTimeToMilliseconds,
  type InstrumentationScope,
  isAttributeValue,
  isTimeInput,
  timeInputToHrTime,
} from "@opentelemetry/core";
import type { Resource } from "@opentelemetry/resources";
import type { ReadableSpan, SpanProcessor, TimedEvent } from "@opentelemetry/sdk-trace";

/** The SDK's default span limits: past them attributes and events are dropped and counted. */
const ATTRIBUTE_COUNT_LIMIT = 128;
const EVENT_COUNT_LIMIT = 128;
const LINK_COUNT_LIMIT = 128;

/** What a sidecar's spans share: who made them and where finished ones go. */
export interface SpanSink {
  readonly resource: Resource;
  readonly instrumentationScope: InstrumentationScope;
  readonly processors: readonly SpanProcessor[];
}

/**
 * A name and attributes worked out from the span's name only when someone reads the span: one
 * function can serve many spans, so describing one need not allocate.
 */
export type SpanDescription = (name: string) => { name: string; attributes: Attributes };

/**
 * `ms` as an HrTime in whole microseconds: Zipkin takes integral microsecond timestamps and
 * refuses a batch holding a fraction.
 */
function hrTime(ms: number): HrTime {
  const micros = Math.round(ms * 1000);
  return [Math.floor(micros / 1e6), (micros % 1e6) * 1000];
}

// Shared until a span sets its own: most spans have no events or links and keep the first status.
const UNSET: SpanStatus = Object.freeze({ code: SpanStatusCode.UNSET });
const NONE: never[] = Object.freeze([]) as unknown as never[];

/**
 * One sampled span, as the API's Span for the code that records it and as the SDK's ReadableSpan
 * for the span buffer and the exporters. The SDK's own span costs several microseconds a request
 * (context objects, limits checks, span metrics, an HrTime per timestamp); this one keeps two
 * `performance.now()` readings and plain fields, converts times only when read, and can defer
 * its name and attributes (`describe`) so a span nobody exports or lists never builds them.
 */
export class RecordedSpan implements SpanOfApi, ReadableSpan {
  readonly kind: SpanKind;
  readonly parentSpanContext: SpanContext | undefined;
  status: SpanStatus = UNSET;
  droppedAttributesCount = 0;
  droppedEventsCount = 0;
  droppedLinksCount = 0;
  #links: Link[] | undefined;
  #events: TimedEvent[] | undefined;
  readonly #context: SpanContext;
  readonly #sink: SpanSink;
  readonly #startMs: number;
  #endMs: number | undefined;
  #name: string;
  /** Made by the first attribute: most spans get theirs only from `describe`, when read. */
  #attributes: Attributes | undefined = undefined;
  #describe: SpanDescription | undefined;

  constructor(
    sink: SpanSink,
    name: string,
    kind: SpanKind,
    context: SpanContext,
    parent: SpanContext | undefined,
    attributes: Attributes | undefined,
  ) {
    this.#sink = sink;
    this.#name = name;
    this.kind = kind;
    this.#context = context;
    this.parentSpanContext = parent;
    if (attributes) this.setAttributes(attributes);
    this.#startMs = performance.now();
  }

  spanContext(): SpanContext {
    return this.#context;
  }

  get name(): string {
    this.#settle();
    return this.#name;
  }

  get attributes(): Attributes {
    this.#settle();
    this.#attributes ??= {};
    return this.#attributes;
  }

  get links(): Link[] {
    return this.#links ?? NONE;
  }

  get events(): TimedEvent[] {
    return this.#events ?? NONE;
  }

  get resource(): Resource {
    return this.#sink.resource;
  }

  get instrumentationScope(): InstrumentationScope {
    return this.#sink.instrumentationScope;
  }

  get startTime(): HrTime {
    return hrTime(performance.timeOrigin + this.#startMs);
  }

  get endTime(): HrTime {
    return hrTime(performance.timeOrigin + (this.#endMs ?? this.#startMs));
  }

  get duration(): HrTime {
    return hrTime((this.#endMs ?? this.#startMs) - this.#startMs);
  }

  get ended(): boolean {
    return this.#endMs !== undefined;
  }

  /** The span's name and attributes from `describe`, the first time anything reads them. */
  describe(describe: SpanDescription): void {
    if (!this.ended) this.#describe = describe;
  }

  #settle(): void {
    const describe = this.#describe;
    if (!describe) return;
    this.#describe = undefined;
    const { name, attributes } = describe(this.#name);
    this.#name = name;
    this.#put(attributes);
  }

  #put(attributes: Attributes): void {
    this.#attributes ??= {};
    const own = this.#attributes;
    for (const key in attributes) {
      const value = attributes[key];
      if (!isAttributeValue(value)) continue;
      if (!(key in own) && Object.keys(own).length >= ATTRIBUTE_COUNT_LIMIT) {
        this.droppedAttributesCount++;
        continue;
      }
      own[key] = value;
    }
  }

  setAttribute(key: string, value: AttributeValue): this {
    return this.setAttributes({ [key]: value });
  }

  setAttributes(attributes: SpanAttributes): this {
    if (this.ended) return this;
    this.#settle();
    this.#put(attributes);
    return this;
  }

  addEvent(name: string, attributesOrTime?: SpanAttributes | TimeInput, time?: TimeInput): this {
    if (this.ended) return this;
    this.#events ??= [];
    if (this.#events.length >= EVENT_COUNT_LIMIT) {
      this.droppedEventsCount++;
      return this;
    }
    const isTime = isTimeInput(attributesOrTime);
    const at = (isTime ? attributesOrTime : time) as TimeInput | undefined;
    this.#events.push({
      name,
      time:
        at === undefined
          ? hrTime(performance.timeOrigin + performance.now())
          : timeInputToHrTime(at),
      ...(!isTime && attributesOrTime ? { attributes: attributesOrTime as SpanAttributes } : {}),
      droppedAttributesCount: 0,
    });
    return this;
  }

  addLink(link: Link): this {
    if (this.ended) return this;
    this.#links ??= [];
    if (this.#links.length >= LINK_COUNT_LIMIT) this.droppedLinksCount++;
    else this.#links.push(link);
    return this;
  }

  addLinks(links: Link[]): this {
    for (const link of links) this.addLink(link);
    return this;
  }

  setStatus(status: SpanStatus): this {
    if (this.ended) return this;
    // As the SDK: OK is final, and a message only goes with ERROR.
    if (this.status.code === SpanStatusCode.OK || status.code === SpanStatusCode.UNSET) return this;
    this.status =
      status.code === SpanStatusCode.ERROR && status.message
        ? { code: status.code, message: status.message }
        : { code: status.code };
    return this;
  }

  updateName(name: string): this {
    if (this.ended) return this;
    this.#settle();
    this.#name = name;
    return this;
  }

  end(endTime?: TimeInput): void {
    if (this.ended) return;
    this.#endMs =
      endTime === undefined
        ? performance.now()
        : hrTimeToMilliseconds(timeInputToHrTime(endTime)) - performance.timeOrigin;
    for (const processor of this.#sink.processors) processor.onEnd(this);
  }

  isRecording(): boolean {
    return !this.ended;
  }

  recordException(exception: Exception, time?: TimeInput): void {
    const attributes: SpanAttributes =
      typeof exception === "string"
        ? { "exception.message": exception }
        : {
            ...(exception.name ? { "exception.type": exception.name } : {}),
            ...(exception.message ? { "exception.message": exception.message } : {}),
            ...(exception.stack ? { "exception.stacktrace": exception.stack } : {}),
          };
    this.addEvent("exception", attributes, time);
  }
}
