/**
 * The bundles are ES modules with no `require` banner (program/shared/bundle.ts): in an ES module `require` is not
 * defined, so a call esbuild left in a function's code would throw "require is not defined" (or, through esbuild's
 * shim, "Dynamic require of … is not supported") only when that code runs. This builds every function and fails on
 * the shim or on any reference to a free `require`, outside strings and comments, not listed below.
 */
import { strict as assert } from "node:assert";
import ts from "typescript";
import { FUNCTION_ENTRY } from "../../../contract/names";
import { bundleFunction } from "../../../program/shared/bundle";

/**
 * Loads through `require` that may fail, by module name, with the reason. None today: runner-cache's bundle holds
 * `require("@aws-sdk/signature-v4-crt")` only inside the text of an error of @aws-sdk/signature-v4-multi-region
 * (dist-es/SignatureV4MultiRegion.js), which registers the CRT signer through a container object the CRT package
 * fills when an application imports it, not through require.
 */
const OPTIONAL_REQUIRES: Record<string, string> = {};

/** Every reference to a free `require` in an ES module's code: `require("x")`, `typeof require`, `require.resolve`. */
function requireReferences(name: string, code: string): string[] {
  const source = ts.createSourceFile(name, code, ts.ScriptTarget.Latest, true, ts.ScriptKind.JS);
  const found: string[] = [];
  const visit = (node: ts.Node): void => {
    if (ts.isIdentifier(node) && node.text === "require") {
      const parent = node.parent;
      const isName =
        (ts.isPropertyAccessExpression(parent) && parent.name === node) ||
        ((ts.isPropertyAssignment(parent) || ts.isMethodDeclaration(parent) || ts.isBindingElement(parent)) &&
          parent.name === node) ||
        ts.isShorthandPropertyAssignment(parent);
      if (!isName) {
        const argument =
          ts.isCallExpression(parent) && parent.expression === node && ts.isStringLiteral(parent.arguments[0])
            ? parent.arguments[0].text
            : undefined;
        if (argument === undefined || !(argument in OPTIONAL_REQUIRES))
          found.push(`${name}: ${parent.getText(source).slice(0, 120)}`);
      }
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

describe("function bundles need no require", function () {
  this.timeout(120_000);

  for (const [fn, entry] of Object.entries(FUNCTION_ENTRY))
    it(`${fn}: no esbuild require shim, no free require`, async () => {
      const files = await bundleFunction(entry);
      for (const [name, code] of Object.entries(files))
        assert.ok(!code.includes("Dynamic require of"), `${name} of ${fn} holds esbuild's dynamic-require shim`);
      assert.deepEqual(
        Object.entries(files).flatMap(([name, code]) => requireReferences(name, code)),
        [],
      );
    });

  it("finds a require call and a typeof require, not a string or a property", () => {
    const code = 'const a = require("node:fs"); const b = typeof require; const c = "require(\\"x\\")"; d.require(1);';
    assert.equal(requireReferences("t.mjs", code).length, 2);
  });
});
