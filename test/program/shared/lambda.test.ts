import { strict as assert } from "node:assert";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { pathToFileURL } from "node:url";
import { FUNCTION_ENTRY } from "../../../contract/names";
import { ARCHIVE_ENTRY, bundleArchive, bundleFunction, bundleSingleFiles } from "../../../program/shared/bundle";
import { functionArchive } from "../../../program/shared/lambda";

/** Writes an archive's files into a new directory, as Lambda unpacks it. */
function unpack(files: Record<string, string>, into: string): string {
  mkdirSync(into, { recursive: true });
  for (const [name, code] of Object.entries(files)) writeFileSync(path.join(into, name), code);
  return path.join(into, ARCHIVE_ENTRY);
}

describe("function archives (bundleFunction, functionArchive)", function () {
  // esbuild parses the AWS SDK once per build: seconds on a loaded machine.
  this.timeout(60_000);
  let work: string;
  before(() => {
    work = mkdtempSync(path.join(tmpdir(), "cirunners-lambda-archive-"));
  });
  after(() => rmSync(work, { recursive: true, force: true }));

  it("the webhook's archive is index.mjs and flat chunks, and importing it finds the handler", async () => {
    const files = await bundleFunction(FUNCTION_ENTRY.webhook);
    assert.ok(files[ARCHIVE_ENTRY], "the archive has index.mjs");
    assert.ok(Object.keys(files).length > 1, "the SDK's dynamic imports are chunks of their own");
    for (const name of Object.keys(files)) assert.match(name, /^[\w-]+\.mjs$/, `${name} sits beside index.mjs`);
    // Every relative import of every file names a file of the archive, and every chunk is imported by one (esbuild
    // also writes chunks no import names, e.g. bowser's: they stay out).
    const imported = new Set<string>();
    for (const code of Object.values(files))
      for (const [, name] of code.matchAll(/(?:from|import\(?)\s*"\.\/([^"]+)"/g)) imported.add(name);
    for (const name of imported) assert.ok(files[name], `./${name} is in the archive`);
    assert.deepEqual([...imported, ARCHIVE_ENTRY].sort(), Object.keys(files).sort());
    const module = await import(pathToFileURL(unpack(files, path.join(work, "webhook"))).href);
    assert.equal(typeof module.handler, "function");
  });

  it("every other function is one file, index.mjs, from one shared esbuild run", async () => {
    const others = Object.values(FUNCTION_ENTRY).filter((entry) => entry !== FUNCTION_ENTRY.webhook);
    const archives = await Promise.all(others.map((entry) => bundleFunction(entry)));
    for (const [index, files] of archives.entries())
      assert.deepEqual(Object.keys(files), [ARCHIVE_ENTRY], `${others[index]} is one file`);
    assert.deepEqual(archives[0], (await bundleSingleFiles([others[0]]))[0], "as built alone");
  });

  it("functionArchive holds the same files", async () => {
    const assets = await (await functionArchive(FUNCTION_ENTRY.webhook)).assets;
    assert.deepEqual(Object.keys(assets).sort(), Object.keys(await bundleFunction(FUNCTION_ENTRY.webhook)).sort());
  });

  it("is deterministic: two builds of an entry give the same files", async () => {
    const first = (await bundleArchive(FUNCTION_ENTRY.webhook)).files;
    const second = (await bundleArchive(FUNCTION_ENTRY.webhook)).files;
    assert.deepEqual(second, first);
    assert.deepEqual(await bundleFunction(FUNCTION_ENTRY.webhook), first);
    const [single] = await bundleSingleFiles([FUNCTION_ENTRY.launcher]);
    assert.deepEqual((await bundleSingleFiles([FUNCTION_ENTRY.launcher]))[0], single);
  });

  describe("in a project of two functions sharing code", () => {
    let root: string;
    const write = (name: string, code: string) => writeFileSync(path.join(root, name), code);
    before(() => {
      root = path.join(work, "project");
      mkdirSync(root);
      write("shared.ts", 'export const greet = (who: string) => `hello ${who}`;\nexport const unused = () => "b";\n');
      write("lazy.ts", 'export const lazy = () => "loaded on demand";\n');
      write(
        "a.ts",
        'import { greet } from "./shared";\nexport const handler = async () => [greet("a"), (await import("./lazy")).lazy()];\n',
      );
      write("b.ts", 'import { greet } from "./shared";\nexport const handler = async () => greet("b");\n');
    });

    it("a dynamically imported module is a chunk of the split archive and loads from it", async () => {
      const { files } = await bundleArchive("a.ts", { root });
      assert.ok(Object.keys(files).some((name) => name.startsWith("lazy-")));
      const { handler } = await import(pathToFileURL(unpack(files, path.join(work, "a"))).href);
      assert.deepEqual(await handler(), ["hello a", "loaded on demand"]);
    });

    it("single files: each holds its dynamic imports and loads alone", async () => {
      const [a] = await bundleSingleFiles(["a.ts", "b.ts"], root);
      assert.deepEqual(Object.keys(a), [ARCHIVE_ENTRY]);
      const { handler } = await import(pathToFileURL(unpack(a, path.join(work, "a-single"))).href);
      assert.deepEqual(await handler(), ["hello a", "loaded on demand"]);
    });

    it("a change to one function's code leaves the other function's archive as it was, split or single", async () => {
      const split = (await bundleArchive("b.ts", { root })).files;
      const [, single] = await bundleSingleFiles(["a.ts", "b.ts"], root);
      // b's single file is the same whether a is in its esbuild run or not.
      assert.deepEqual((await bundleSingleFiles(["b.ts"], root))[0], single);
      // a now shares more with b and reaches the lazy module statically: one split esbuild run for both would cut
      // other chunks for b.
      write(
        "a.ts",
        'import { greet, unused } from "./shared";\nimport { lazy } from "./lazy";\nexport const handler = async () => [greet("a"), unused(), lazy()];\n',
      );
      assert.deepEqual((await bundleArchive("b.ts", { root })).files, split);
      assert.deepEqual((await bundleSingleFiles(["a.ts", "b.ts"], root))[1], single);
    });
  });
});
