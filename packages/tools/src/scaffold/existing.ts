/**
 * A new kind in an existing component package: writes the kind's files and adds it to the
 * package's manifest, public exports and README. The edits are textual and small (one import,
 * one array entry, appended lines), so whatever else the files hold is left as it is.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { indexExports, type KindInput, readmeSection, renderKind } from "./kind.ts";

/** Path (relative to the package) to new text; existing files come back with their edit applied. */
export function addKindToPackage(dir: string, input: KindInput): Record<string, string> {
  const { names } = input;
  const read = (path: string): string => {
    const file = join(dir, path);
    if (!existsSync(file)) throw new Error(`${file} is missing; is ${dir} a component package?`);
    return readFileSync(file, "utf8");
  };
  const files = renderKind(input);
  for (const path of Object.keys(files)) {
    if (existsSync(join(dir, path))) {
      throw new Error(`${join(dir, path)} already exists; the package has a ${names.kind} kind`);
    }
  }

  const manifest = read("src/manifest.ts");
  if (manifest.includes(`"${names.type}"`)) {
    throw new Error(`src/manifest.ts already names ${names.type}`);
  }
  const list = /components:\s*\[/.exec(manifest);
  if (!list) throw new Error("src/manifest.ts has no `components: [` list to add to");
  const end = list.index + list[0].length;
  const withEntry = `${manifest.slice(0, end)}${names.definition}, ${manifest.slice(end)}`;
  const importLine = `import { ${names.definition} } from "./${names.file}.ts";\n`;
  // After the last import, so the manifest still starts with its imports.
  const imports = [...withEntry.matchAll(/^import [^;]+;\n/gm)];
  const at =
    imports.length > 0 ? (imports.at(-1)?.index ?? 0) + (imports.at(-1)?.[0].length ?? 0) : 0;
  files["src/manifest.ts"] = `${withEntry.slice(0, at)}${importLine}${withEntry.slice(at)}`;

  files["src/index.ts"] = `${read("src/index.ts")}${indexExports(input)}`;
  files["README.md"] = `${read("README.md").trimEnd()}\n\n${readmeSection(input, "##")}`;
  return files;
}
