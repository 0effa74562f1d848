import {
  Counter,
  type CounterConfiguration,
  Histogram,
  type HistogramConfiguration,
  type LabelValues,
} from "prom-client";

type CounterData<L extends string> = Awaited<ReturnType<Counter<L>["get"]>>;
type HistogramData<L extends string> = Awaited<ReturnType<Histogram<L>["get"]>>;

/**
 * A metric's data as prom-client's registry reads it. Its typings say `type` is an enum and
 * `collect` is always there; at run time `type` is the exposition's word and `collect` optional.
 */
function metricData<D>(
  name: string,
  help: string,
  type: "counter" | "histogram",
  values: unknown[],
): D {
  return { name, help, type, values, aggregator: "sum" } as unknown as D;
}

/** A series' labels, in the metric's label name order (the order the exposition prints them). */
export type Labels = Record<string, string>;

/** A metric's label rewrite (`spec.metrics.rules`), applied once when a series is created. */
export type Relabel = (labels: Labels) => Labels;

/** Joins label values into a key; NUL cannot occur in anything the sidecar labels with. */
const SEP = "\u0000";

/**
 * A Map that forgets everything once it holds `max` keys. The caches of raw label values in
 * front of the series are only shortcuts: forgetting one costs a relabel, while letting them grow
 * with raw values (increased cardinality collapsed by a rule) would not be bounded.
 */
export class BoundedCache<V> {
  readonly #map = new Map<string, V>();
  readonly #max: number;

  constructor(max = 4096) {
    this.#max = max;
  }

  get(key: string): V | undefined {
    return this.#map.get(key);
  }

  set(key: string, value: V): void {
    if (this.#map.size >= this.#max) this.#map.clear();
    this.#map.set(key, value);
  }

  clear(): void {
    this.#map.clear();
  }
}

/** One label set of a counter: recording is an addition. */
export class CounterSeries {
  value = 0;
  readonly labels: Labels;

  constructor(labels: Labels) {
    this.labels = labels;
  }

  inc(value = 1): void {
    // As prom-client, a counter does not go down; unlike it, a bad value is dropped, not thrown
    // (recording runs in response listeners, where a throw would be uncaught).
    if (value >= 0 && value !== Number.POSITIVE_INFINITY) this.value += value;
  }
}

/** One label set of a histogram: per-bucket counts (not cumulative; the last is `+Inf`). */
export class HistogramSeries {
  readonly labels: Labels;
  readonly bounds: readonly number[];
  readonly counts: number[];
  sum = 0;
  count = 0;

  constructor(labels: Labels, bounds: readonly number[]) {
    this.labels = labels;
    this.bounds = bounds;
    this.counts = new Array<number>(bounds.length + 1).fill(0);
  }

  observe(value: number): void {
    if (!Number.isFinite(value)) return;
    const bounds = this.bounds;
    // Linear: the sidecar's latencies and sizes fall in the first few buckets.
    let i = 0;
    while (i < bounds.length && value > (bounds[i] as number)) i++;
    (this.counts[i] as number)++;
    this.sum += value;
    this.count++;
  }
}

/** The series of one metric: raw label values → series, through the relabel, made once. */
class SeriesTable<S extends { labels: Labels }> {
  readonly #names: readonly string[];
  readonly #relabel: Relabel | undefined;
  readonly #make: (labels: Labels) => S;
  readonly #raw = new BoundedCache<S>();
  /** By relabelled values, in creation order: what a scrape lists, as prom-client's hashMap. */
  readonly series = new Map<string, S>();

  constructor(names: readonly string[], relabel: Relabel | undefined, make: (labels: Labels) => S) {
    this.#names = names;
    this.#relabel = relabel;
    this.#make = make;
  }

  get(values: readonly string[]): S {
    const key = values.join(SEP);
    let s = this.#raw.get(key);
    if (s !== undefined) return s;
    let labels: Labels = {};
    this.#names.forEach((name, i) => {
      labels[name] = values[i] ?? "";
    });
    if (this.#relabel) labels = this.#relabel(labels);
    const final = this.#names.map((name) => labels[name] ?? "").join(SEP);
    s = this.series.get(final);
    if (s === undefined) {
      s = this.#make(labels);
      this.series.set(final, s);
    }
    this.#raw.set(key, s);
    return s;
  }

  clear(): void {
    this.#raw.clear();
    this.series.clear();
  }

  valuesOf(labels: Partial<Record<string, string | number>> | undefined): string[] {
    return this.#names.map((name) => String(labels?.[name] ?? ""));
  }
}

/**
 * A prom-client Counter whose series are plain numbers held by handles (`series(...)`), found
 * once per label set instead of re-hashing a labels object on every `inc`. prom-client still
 * registers, names and prints it; `get()` reads the handles.
 */
export class FastCounter<L extends string> extends Counter<L> {
  readonly #table: SeriesTable<CounterSeries>;
  readonly #name: string;
  readonly #help: string;

  constructor(config: CounterConfiguration<L>, relabel?: Relabel) {
    super(config);
    this.#name = config.name;
    this.#help = config.help;
    this.#table = new SeriesTable(config.labelNames ?? [], relabel, (l) => new CounterSeries(l));
    // prom-client sets `inc` on the instance; the labels-object form goes to the handles too.
    this.inc = ((labels?: LabelValues<L> | number, value?: number) => {
      if (typeof labels === "number" || labels === undefined)
        this.#table.get(this.#table.valuesOf(undefined)).inc(labels);
      else this.#table.get(this.#table.valuesOf(labels)).inc(value);
    }) as Counter<L>["inc"];
  }

  /** The handle of one label set; `values` in label name order. */
  series(...values: string[]): CounterSeries {
    return this.#table.get(values);
  }

  override async get(): Promise<CounterData<L>> {
    const values: { value: number; labels: Labels }[] = [];
    for (const s of this.#table.series.values()) values.push({ value: s.value, labels: s.labels });
    return metricData(this.#name, this.#help, "counter", values);
  }

  override reset(): void {
    super.reset();
    // prom-client's constructor resets before this class's fields exist.
    if (#table in this) this.#table.clear();
  }
}

/** The exposition entry prom-client's registry prints (`sharedLabels` follow `labels`). */
interface PromStringValue {
  value: number;
  labels: Record<string, string | number>;
  sharedLabels: Labels;
  metricName: string;
  exemplar: null | undefined;
}

/** A prom-client Histogram whose series are handles with a bucket array, as FastCounter. */
export class FastHistogram<L extends string> extends Histogram<L> {
  readonly #table: SeriesTable<HistogramSeries>;
  readonly #bounds: readonly number[];
  readonly #name: string;
  readonly #help: string;

  constructor(config: HistogramConfiguration<L> & { buckets: number[] }, relabel?: Relabel) {
    super(config);
    this.#name = config.name;
    this.#help = config.help;
    const bounds = [...config.buckets];
    this.#bounds = bounds;
    this.#table = new SeriesTable(
      config.labelNames ?? [],
      relabel,
      (l) => new HistogramSeries(l, bounds),
    );
    this.observe = ((labels: LabelValues<L> | number, value?: number) => {
      if (typeof labels === "number")
        this.#table.get(this.#table.valuesOf(undefined)).observe(labels);
      else this.#table.get(this.#table.valuesOf(labels)).observe(value ?? Number.NaN);
    }) as Histogram<L>["observe"];
  }

  series(...values: string[]): HistogramSeries {
    return this.#table.get(values);
  }

  /**
   * What prom-client's registry prints from: per series the cumulative buckets (`le`), `+Inf`,
   * `_sum` and `_count`, the shape of Histogram's own. Its `get()` splays this, so it stays.
   */
  async getForPromString(): Promise<HistogramData<L>> {
    const name = this.#name;
    const bucket = `${name}_bucket`;
    const values: PromStringValue[] = [];
    for (const s of this.#table.series.values()) {
      let acc = 0;
      this.#bounds.forEach((le, i) => {
        acc += s.counts[i] as number;
        values.push({
          labels: { le },
          sharedLabels: s.labels,
          value: acc,
          metricName: bucket,
          exemplar: null,
        });
      });
      const shared = s.labels;
      values.push(
        {
          labels: { le: "+Inf" },
          sharedLabels: shared,
          value: s.count,
          metricName: bucket,
          exemplar: null,
        },
        {
          labels: {},
          sharedLabels: shared,
          value: s.sum,
          metricName: `${name}_sum`,
          exemplar: undefined,
        },
        {
          labels: {},
          sharedLabels: shared,
          value: s.count,
          metricName: `${name}_count`,
          exemplar: undefined,
        },
      );
    }
    return metricData(name, this.#help, "histogram", values);
  }

  override reset(): void {
    super.reset();
    if (#table in this) this.#table.clear();
  }
}
