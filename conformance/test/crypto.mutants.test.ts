import { describe, expect, it } from "vitest";
import {
  CRYPTO_CASES,
  type CryptoCaseId,
  describeCryptoProviderConformance,
} from "../src/index.ts";
import { ReferenceCrypto, type ReferenceFlaws } from "./crypto-reference.ts";

// The suite passes on a correct provider...
describeCryptoProviderConformance({
  name: "reference in-memory provider",
  create: async () => new ReferenceCrypto(),
  keys: ReferenceCrypto.KEYS,
});

// ...and each broken one fails the cases named here.
const MUTANTS: Record<string, { flaws: ReferenceFlaws; mustFail: CryptoCaseId[] }> = {
  "identity wrap": { flaws: { identityWrap: true }, mustFail: ["wrapRoundTrip", "wrongKey"] },
  "any key unwraps": { flaws: { anyKeyUnwraps: true }, mustFail: ["wrongKey"] },
  "getKey leaks the private key": { flaws: { leaksPrivate: true }, mustFail: ["publicKeysOnly"] },
  "getKey leaks a symmetric key": { flaws: { leaksSymmetric: true }, mustFail: ["publicKeysOnly"] },
  "unknown key is ERR_INTERNAL": { flaws: { unknownIsInternal: true }, mustFail: ["unknownKey"] },
  "algorithm ignored": { flaws: { ignoresAlgorithm: true }, mustFail: ["algorithmMismatch"] },
};

describe("crypto conformance catches broken providers", () => {
  for (const [name, { flaws, mustFail }] of Object.entries(MUTANTS)) {
    it(`${name}: fails ${mustFail.join(", ")}`, async () => {
      const provider = new ReferenceCrypto(flaws);
      for (const id of mustFail) {
        const outcome = await CRYPTO_CASES[id](provider, ReferenceCrypto.KEYS).then(
          () => "passed",
          () => "failed",
        );
        expect(outcome, `${name} / ${id}`).toBe("failed");
      }
    });
  }
});
