export type {
  CryptoCase,
  CryptoCaseId,
  CryptoConformanceConfig,
  CryptoConformanceKeys,
} from "./suite.ts";
export { CRYPTO_CASES, describeCryptoProviderConformance } from "./suite.ts";
