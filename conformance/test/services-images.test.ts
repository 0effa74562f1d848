import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { imageEnvVar, SERVICE_IMAGES } from "../src/services/images.ts";
import type { ServiceName } from "../src/services/types.ts";

const imagesDir = join(import.meta.dirname, "..", "images");
const recipes = readdirSync(imagesDir, { withFileTypes: true })
  .filter((entry) => entry.isDirectory())
  .map((entry) => entry.name)
  .sort();

// The image tags live in three places (the recipe, the TypeScript defaults, the CI env file);
// this keeps them in step.
describe("local image recipes", () => {
  it("exist for every service and only for them", () => {
    expect(recipes).toEqual(Object.keys(SERVICE_IMAGES).sort());
  });

  const env = readFileSync(join(imagesDir, "images.env"), "utf8");
  for (const name of Object.keys(SERVICE_IMAGES) as ServiceName[]) {
    it(`${name}: image.conf TAG, SERVICE_IMAGES.local and images.env agree`, () => {
      const conf = readFileSync(join(imagesDir, name, "image.conf"), "utf8");
      const tag = /^TAG=(.+)$/m.exec(conf)?.[1];
      expect(tag).toBe(SERVICE_IMAGES[name].local);
      const variable = imageEnvVar(name);
      expect(env).toContain(`export ${variable}="\${${variable}:-${tag}}"`);
      for (const file of ["recipe.sh", "entrypoint.sh"]) {
        expect(readFileSync(join(imagesDir, name, file), "utf8").length).toBeGreaterThan(0);
      }
    });
  }
});
