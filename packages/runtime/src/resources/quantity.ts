/**
 * Kubernetes resource quantities as daprd's size flags take them (`--max-body-size 4Mi`,
 * `--read-buffer-size 4Ki`): a decimal number with an optional binary (`Ki`, `Mi`, `Gi`, `Ti`,
 * `Pi`, `Ei`) or decimal (`k`, `M`, `G`, `T`, `P`, `E`) suffix, or a plain byte count.
 */
const SUFFIXES: Record<string, number> = {
  "": 1,
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  Pi: 2 ** 50,
  Ei: 2 ** 60,
  k: 1e3,
  K: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  E: 1e18,
};

/** Bytes for a quantity such as `4Mi`, `512Ki`, `1G` or `1048576`; throws naming the input. */
export function parseQuantity(text: string): number {
  const m = /^\s*(\d+(?:\.\d+)?|\.\d+)(?:e(\d+))?\s*([KMGTPE]i|[kKMGTPE])?\s*$/.exec(text);
  const factor = m ? SUFFIXES[m[3] ?? ""] : undefined;
  if (!m || factor === undefined) {
    throw new Error(
      `invalid quantity "${text}": expected a number with an optional suffix such as 4Mi, 512Ki or 1G`,
    );
  }
  const bytes = Math.ceil(Number(m[1]) * 10 ** Number(m[2] ?? 0) * factor);
  if (!Number.isSafeInteger(bytes)) throw new Error(`quantity "${text}" is too large`);
  return bytes;
}

/** daprd's deprecated `--dapr-http-max-request-size` counts MB as 2^20 bytes. */
export function megabytesToBytes(mb: number): number {
  return mb * 2 ** 20;
}
