import { strict as assert } from "node:assert";
import { spawnSync } from "node:child_process";
import * as path from "node:path";

const ROOT = path.resolve(__dirname, "..", "..");

describe("npm run simulate: a user's mistake", () => {
  it("an unknown stack gets one line naming it and exit 2, after stopping what it started (no stack trace)", () => {
    const run = spawnSync(
      process.execPath,
      ["--import", "tsx", path.join(ROOT, "tools", "simulate.ts"), "--stack", "nope"],
      {
        cwd: ROOT,
        encoding: "utf8",
        timeout: 180_000,
      },
    );
    assert.equal(run.status, 2, run.stderr);
    assert.match(run.stderr, /error: no stack file Pulumi\.nope\.yaml; stacks here: dev, prod/);
    assert.doesNotMatch(run.stderr, /^\s+at /m, "no stack trace for a user's mistake");
    assert.match(run.stderr, /stopping moto, the GitHub stand-in and the function containers/);
  });
});
