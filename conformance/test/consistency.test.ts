import { rmSync } from "node:fs";
import { mkdir, writeFile } from "node:fs/promises";
import { dirname, join, relative, resolve } from "node:path";
import { ComponentError, type StateStore } from "@outrig/core";
import { afterAll, describe, expect, it } from "vitest";
import { checkComponentPackage, componentPackageDirs } from "../scaffold/consistency.ts";
import { renderComponentPackage } from "../scaffold/template.ts";

const repoRoot = resolve(import.meta.dirname, "../..");
const dirs = await componentPackageDirs(repoRoot);

describe("every component package is consistent", () => {
  it("finds the component packages", () => {
    expect(dirs.map((d) => relative(repoRoot, d))).toContain("packages/memory");
  });
  for (const dir of dirs) {
    it(relative(repoRoot, dir), async () => {
      expect(await checkComponentPackage(dir, repoRoot)).toEqual([]);
    });
  }
});

describe("a scaffolded component", () => {
  const scratch = join(repoRoot, "conformance", ".scaffold-test");
  afterAll(() => rmSync(scratch, { recursive: true, force: true }));

  for (const kind of ["state", "pubsub"] as const) {
    it(`${kind}: passes the consistency check and rejects every operation with ERR_NOT_SUPPORTED`, async () => {
      const backend = `scaffolded-${kind}`;
      const dir = join(scratch, backend);
      const files = renderComponentPackage({
        backend,
        kind,
        relativeRoot: relative(dir, repoRoot),
        directory: relative(repoRoot, dir),
      });
      for (const [path, text] of Object.entries(files)) {
        await mkdir(dirname(join(dir, path)), { recursive: true });
        await writeFile(join(dir, path), text);
      }
      expect(await checkComponentPackage(dir, repoRoot)).toEqual([]);

      const mod = (await import(join(dir, "src", "index.ts"))) as Record<string, unknown>;
      const create = Object.entries(mod).find(([k]) => k.startsWith("create"))?.[1] as (
        m: Record<string, string>,
      ) => Promise<StateStore & { publish?: unknown }>;
      const component = await create({ connectionString: "unused" });
      const attempt =
        kind === "state"
          ? component.get({ key: "k" })
          : (component as unknown as { publish(r: unknown): Promise<void> }).publish({
              topic: "t",
              data: new Uint8Array(),
            });
      const error = await attempt.then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(ComponentError);
      expect((error as ComponentError).code).toBe("ERR_NOT_SUPPORTED");
      await expect(create({})).rejects.toMatchObject({ code: "ERR_CONFIG_INVALID" });
    });
  }
});
