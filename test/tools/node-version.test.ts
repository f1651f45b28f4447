import * as assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as path from "node:path";
import { MINIMUM_NODE_MAJOR, nodeVersionProblem } from "../../tools/node-version";

const ROOT = path.resolve(__dirname, "..", "..");

describe("Node version guard", () => {
  it("names the version needed and the one found", () => {
    assert.equal(nodeVersionProblem("v20.20.2"), "cirunners needs Node 22 or newer, found v20.20.2");
    assert.equal(nodeVersionProblem("v18.0.0"), "cirunners needs Node 22 or newer, found v18.0.0");
  });

  it("accepts Node 22 and later, and this test's own Node", () => {
    for (const version of ["v22.0.0", "v22.20.0", "v24.1.0", "v100.0.0"])
      assert.equal(nodeVersionProblem(version), undefined);
    assert.equal(nodeVersionProblem(process.version), undefined);
  });

  it("rejects what it cannot read instead of letting it through", () => {
    assert.match(nodeVersionProblem("unknown") ?? "", /needs Node 22 or newer, found unknown/);
  });

  it("follows package.json's engines.node", () => {
    const { engines } = require(path.join(ROOT, "package.json")) as { engines: { node: string } };
    assert.equal(engines.node, `>=${MINIMUM_NODE_MAJOR}`);
  });

  it("prints one line and exits 2 before the preview loads anything else", () => {
    // An older Node, simulated: the guard reads process.version, which a preloaded script can replace.
    const fake = "Object.defineProperty(process, 'version', { value: 'v20.20.2' });";
    const run = spawnSync(
      process.execPath,
      ["--import", "tsx", "--eval", `${fake} require(${JSON.stringify(path.join(ROOT, "tools", "preview.ts"))});`],
      { cwd: ROOT, encoding: "utf8", timeout: 60_000 },
    );
    assert.equal(run.status, 2, run.stderr);
    assert.equal(run.stderr, "cirunners needs Node 22 or newer, found v20.20.2\n");
    assert.equal(run.stdout, "");
  });
});
