/**
 * Rendezvous (highest-random-weight) hashing: the owner of `type/id` is, among the members
 * hosting the type, the one whose hash mixed with the actor's scores highest. A pure function of
 * the member ids and the actor, so every sidecar with the same membership picks the same owner,
 * and a member leaving moves only its own actors.
 */

/** FNV-1a (32 bits) of a string's UTF-16 code units: fast and stable across processes. */
export function fnv1a(text: string, seed = 0x811c9dc5): number {
  let h = seed >>> 0;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

/** murmur3's finaliser: spreads every input bit over the output. */
function mix(h: number): number {
  let x = h >>> 0;
  x ^= x >>> 16;
  x = Math.imul(x, 0x85ebca6b) >>> 0;
  x ^= x >>> 13;
  x = Math.imul(x, 0xc2b2ae35) >>> 0;
  x ^= x >>> 16;
  return x >>> 0;
}

/** A candidate owner with its id hashed once per membership. */
export interface Weighted<T> {
  readonly id: string;
  readonly hash: number;
  readonly member: T;
}

export function weighted<T extends { id: string }>(member: T): Weighted<T> {
  return { id: member.id, hash: fnv1a(member.id), member };
}

/** The owner of `type/id` among `candidates` (undefined when there are none). */
export function rendezvousOwner<T>(
  candidates: readonly Weighted<T>[],
  type: string,
  id: string,
): Weighted<T> | undefined {
  const key = fnv1a(id, fnv1a(type));
  let best: Weighted<T> | undefined;
  let bestScore = -1;
  for (const c of candidates) {
    const score = mix(key ^ c.hash);
    // Ties (rare) go to the smaller id, so the choice never depends on the order of the list.
    if (score > bestScore || (score === bestScore && best !== undefined && c.id < best.id)) {
      best = c;
      bestScore = score;
    }
  }
  return best;
}
