/**
 * The bundles load each AWS SDK client's package.json as `SDK_PACKAGE_FIELDS` only (program/shared/bundle.ts): this
 * fails if an installed @aws-sdk or @smithy ES module (dist-es, what esbuild bundles: `mainFields`) reads another
 * field, or imports a package.json the plugin's filter does not match, so an SDK upgrade cannot lose one silently.
 */
import { strict as assert } from "node:assert";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { FUNCTION_ENTRY } from "../../../contract/names";
import { bundleFunction, REPO_ROOT, SDK_PACKAGE_FIELDS, SDK_PACKAGE_JSON } from "../../../program/shared/bundle";

/** Every .js file under a directory. */
function jsFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: "utf8" })
    .filter((name) => name.endsWith(".js"))
    .map((name) => path.join(dir, name));
}

/** The dist-es files of every @aws-sdk and @smithy package installed in `modules`, nested installs included. */
function sdkModules(modules: string): string[] {
  const found: string[] = [];
  for (const name of readdirSync(modules)) {
    const packages = name.startsWith("@")
      ? readdirSync(path.join(modules, name)).map((inner) => path.join(modules, name, inner))
      : [path.join(modules, name)];
    for (const pkg of packages) {
      const distEs = path.join(pkg, "dist-es");
      if ((name === "@aws-sdk" || name === "@smithy") && existsSync(distEs)) found.push(...jsFiles(distEs));
      if (existsSync(path.join(pkg, "node_modules"))) found.push(...sdkModules(path.join(pkg, "node_modules")));
    }
  }
  return found;
}

interface PackageJsonUse {
  file: string;
  packageJson: string;
  /** The fields read, or a description of a use that reads the whole object. */
  fields: string[];
}

/** How a module uses the package.json files it imports: the fields it reads. */
function packageJsonUses(file: string): PackageJsonUse[] {
  const code = readFileSync(file, "utf8");
  if (!code.includes("package.json")) return [];
  const uses: PackageJsonUse[] = [];
  const statements = /import\s+([^"';]+?)\s+from\s+["']([^"']*\/package\.json)["'][^;\n]*;?/g;
  for (const [statement, clause, specifier] of code.matchAll(statements)) {
    const packageJson = path.resolve(path.dirname(file), specifier);
    const fields: string[] = [];
    const named = clause.match(/\{([^}]*)\}/);
    for (const binding of named?.[1].split(",") ?? []) if (binding.trim()) fields.push(binding.trim().split(/\s+/)[0]);
    const whole = clause
      .replace(/\{[^}]*\}/, "")
      .replace(/\*\s+as\s+/, "")
      .split(",")
      .map((s) => s.trim())
      .filter(Boolean);
    const rest = code.replace(statement, "");
    for (const binding of whole)
      for (const match of rest.matchAll(
        new RegExp(`(?<![\\w$.])${binding.replace(/\$/g, "\\$")}(?![\\w$])(\\??\\.([\\w$]+))?`, "g"),
      ))
        fields.push(match[2] ?? `${binding} used whole: …${rest.slice(match.index, match.index + 60)}…`);
    uses.push({ file, packageJson, fields });
  }
  // Other ways to load a package.json (require, import()) would escape the scan above.
  const other = code.replace(statements, "").match(/.{0,60}["'][^"']*\/package\.json["'].{0,20}/);
  if (other) uses.push({ file, packageJson: "?", fields: [`unrecognised load: ${other[0]}`] });
  return uses;
}

describe("AWS SDK package.json files in the bundles", function () {
  this.timeout(60_000);
  const uses = sdkModules(path.join(REPO_ROOT, "node_modules")).flatMap(packageJsonUses);

  it("the SDK's ES modules read only the fields the bundles keep", () => {
    assert.ok(uses.length > 0, "the clients import their package.json (else this test checks nothing)");
    const problems = uses.flatMap((use) =>
      use.fields
        .filter((field) => !(SDK_PACKAGE_FIELDS as readonly string[]).includes(field))
        .map((field) => `${path.relative(REPO_ROOT, use.file)}: ${field}`),
    );
    assert.deepEqual(problems, [], `fields beyond ${SDK_PACKAGE_FIELDS.join(", ")}`);
  });

  it("every package.json they import is one the plugin slims", () => {
    const missed = uses.filter((use) => !SDK_PACKAGE_JSON.test(use.packageJson));
    assert.deepEqual(
      missed.map((use) => `${path.relative(REPO_ROOT, use.file)} imports ${use.packageJson}`),
      [],
    );
  });

  it("the scan finds the fields read, a whole use and another way of loading", () => {
    const dir = mkdtempSync(path.join(tmpdir(), "cirunners-package-json-"));
    try {
      const file = path.join(dir, "runtimeConfig.js");
      writeFileSync(
        file,
        'import info from "../package.json";\nimport { homepage } from "../package.json";\nconst a = info.version, b = info?.bugs;\nsend(info);\nconst c = require("./package.json");\n',
      );
      const fields = packageJsonUses(file).flatMap((use) => use.fields);
      assert.deepEqual(fields.slice(0, 2), ["version", "bugs"]);
      assert.match(fields[2], /^info used whole/);
      assert.equal(fields[3], "homepage");
      assert.match(fields[4], /^unrecognised load/);
      assert.equal(fields.length, 5);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("the webhook's archive holds the clients' versions and no other package.json field", async () => {
    const code = Object.values(await bundleFunction(FUNCTION_ENTRY.webhook)).join("\n");
    const { version } = JSON.parse(
      readFileSync(path.join(REPO_ROOT, "node_modules/@aws-sdk/client-sqs/package.json"), "utf8"),
    ) as { version: string };
    assert.ok(code.includes(`version:"${version}"`), "the SQS client's version is in the bundle");
    for (const field of ["devDependencies", "scripts", "typesVersions", "homepage"])
      assert.ok(!code.includes(`${field}:`), `no package.json's ${field}`);
  });
});
