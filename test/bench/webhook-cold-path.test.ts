/** bench/webhook.ts's cold path: the module hook records the archive files a process loads, and only those. */
import { strict as assert } from "node:assert";
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { archiveFilesLoaded, recordingEnvironment } from "../../bench/webhook-cold-path";
import { buildWebhook, bytesPerPackage } from "../../bench/webhook-build";
import { FUNCTION_ENTRY } from "../../contract/names";
import { bundleArchive, bundleFunction, REPO_ROOT } from "../../program/shared/bundle";

describe("bench/webhook.ts: the cold path is measured", () => {
  let work: string;
  before(() => {
    work = mkdtempSync(path.join(tmpdir(), "cirunners-cold-path-"));
  });
  after(() => rmSync(work, { recursive: true, force: true }));

  it("records the entry and what the first call imports, not a dynamic import that never runs", async () => {
    const project = path.join(work, "project");
    mkdirSync(project);
    const write = (name: string, code: string) => writeFileSync(path.join(project, name), code);
    write("used.ts", 'export const used = () => "used";\n');
    write("never.ts", 'export const never = () => "never";\n');
    write(
      "entry.ts",
      'export const handler = async (rare: boolean) => rare ? (await import("./never")).never() : (await import("./used")).used();\n',
    );
    const { files, metafile } = await bundleArchive("entry.ts", { root: project });
    const dir = path.join(work, "archive");
    mkdirSync(dir);
    for (const [name, code] of Object.entries(files)) writeFileSync(path.join(dir, name), code);
    writeFileSync(
      path.join(dir, "main.mjs"),
      'const { handler } = await import("./index.mjs");\nif (await handler(false) !== "used") process.exit(3);\nprocess.exit(0);\n',
    );
    const record = path.join(dir, "loaded.json");
    execFileSync(process.execPath, [path.join(dir, "main.mjs")], {
      cwd: dir,
      env: { PATH: process.env.PATH ?? "", ...recordingEnvironment(record) },
    });
    const loaded = archiveFilesLoaded(dir, files, JSON.parse(readFileSync(record, "utf8")));
    assert.equal(loaded[0], "index.mjs");
    assert.ok(loaded.some((name) => name.startsWith("used-")));
    assert.ok(!loaded.some((name) => name.startsWith("never-")));
    assert.ok(
      Object.keys(files).some((name) => name.startsWith("never-")),
      "the archive holds the deferred chunk",
    );
    const packages = bytesPerPackage(metafile, new Set(loaded)).map((p) => p.name);
    assert.ok(
      packages.some((name) => name.startsWith("used.ts")) && !packages.some((name) => name.startsWith("never.ts")),
    );
  });

  it("measures the webhook's archive as deployed", async function () {
    this.timeout(60_000);
    const { files } = await buildWebhook(REPO_ROOT, "deployed");
    assert.deepEqual(files, await bundleFunction(FUNCTION_ENTRY.webhook));
  });
});
