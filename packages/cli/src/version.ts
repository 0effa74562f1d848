import { readFileSync } from "node:fs";

/** Read once from the package's own manifest so `--version` can never drift from the release. */
export const cliVersion: string = (
  JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as {
    version: string;
  }
).version;
