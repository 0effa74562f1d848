import { execFileSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { imageEnvVar } from "../src/services/definition.ts";
import { SERVICE_IMAGES, TEST_SERVICES } from "../src/services/registry.ts";

const servicesDir = join(import.meta.dirname, "..", "src", "services");
const folders = readdirSync(servicesDir, { withFileTypes: true })
  .filter((entry) => entry.isDirectory())
  .map((entry) => entry.name)
  .sort();

// A service is its folder: the registry, the image recipes and the tags services-up.sh exports
// must all name the same services with the one tag of each image.json.
describe("test service folders", () => {
  it("are exactly the registered services", () => {
    expect(folders).toEqual(TEST_SERVICES.map((s) => s.name).sort());
  });

  const exports = execFileSync(
    "bash",
    [join(import.meta.dirname, "..", "scripts", "build-images.sh"), "--exports"],
    { encoding: "utf8" },
  );
  for (const service of TEST_SERVICES) {
    it(`${service.name}: image.json's tag is the definition's and what services-up.sh exports`, () => {
      const image = join(servicesDir, service.name, "image");
      const recipe = JSON.parse(readFileSync(join(image, "image.json"), "utf8")) as {
        tag: string;
      };
      expect(service.image.local).toBe(recipe.tag);
      expect(SERVICE_IMAGES[service.name].local).toBe(recipe.tag);
      const variable = imageEnvVar(service.name);
      expect(exports).toContain(`export ${variable}="\${${variable}:-${recipe.tag}}"`);
      for (const file of ["recipe.sh", "entrypoint.sh"]) {
        expect(readFileSync(join(image, file), "utf8").length).toBeGreaterThan(0);
      }
      expect(existsSync(join(servicesDir, service.name, "probe.ts"))).toBe(true);
    });
  }
});
