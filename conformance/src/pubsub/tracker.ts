/** What a conformance handler does with one delivery. */
export type DeliveryOutcome = "fail" | "ok" | "duplicate";

/**
 * Dapr's failure pattern, made strict. Counting first-time deliveries, the first two and every
 * fifth fail; a message already handled is acknowledged again as a duplicate. Unlike Dapr, a
 * failed message stays expected, so it must come back and succeed: redelivery is required.
 */
export class DeliveryTracker {
  /** Sequences handled successfully at least once. */
  readonly handled = new Set<number>();
  /** Sequences that failed on purpose at least once. */
  readonly failed = new Set<number>();
  /** Deliveries per sequence, successful or not. */
  readonly attempts = new Map<number, number>();
  /** Deliveries whose topic was not the subscribed one. */
  readonly wrongTopics: string[] = [];
  private firstTimeDeliveries = 0;
  private readonly failurePattern: boolean;

  constructor(options: { failurePattern: boolean }) {
    this.failurePattern = options.failurePattern;
  }

  deliver(seq: number): DeliveryOutcome {
    const attempts = (this.attempts.get(seq) ?? 0) + 1;
    this.attempts.set(seq, attempts);
    if (this.handled.has(seq)) return "duplicate";
    if (attempts === 1 && this.failurePattern) {
      this.firstTimeDeliveries++;
      if (this.firstTimeDeliveries <= 2 || this.firstTimeDeliveries % 5 === 0) {
        this.failed.add(seq);
        return "fail";
      }
    }
    this.handled.add(seq);
    return "ok";
  }

  missing(expected: Iterable<number>): number[] {
    return [...expected].filter((seq) => !this.handled.has(seq));
  }

  /** Failed on purpose and never handled since: the redelivery the suite requires did not come. */
  notRedelivered(): number[] {
    return [...this.failed].filter((seq) => !this.handled.has(seq));
  }

  describe(expected: Iterable<number>): string {
    const missing = this.missing(expected);
    const lost = this.notRedelivered();
    return (
      `missing ${JSON.stringify(missing)}; ` +
      `failed on purpose and never redelivered: ${JSON.stringify(lost)}; ` +
      `handled ${this.handled.size}, delivery attempts ${[...this.attempts.values()].reduce((a, b) => a + b, 0)}`
    );
  }
}

/** Records every delivery in arrival order, for exact-set and ordering assertions. */
export class ArrivalLog {
  readonly seqs: number[] = [];
  readonly topics: string[] = [];
  /** Deliveries that started after the subscription was aborted. */
  callsAfterAbort = 0;

  has(seq: number): boolean {
    return this.seqs.includes(seq);
  }

  hasAll(seqs: Iterable<number>): boolean {
    const got = new Set(this.seqs);
    return [...seqs].every((s) => got.has(s));
  }

  sorted(): number[] {
    return [...this.seqs].sort((a, b) => a - b);
  }
}
