import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import fc from "fast-check";
import { runnerCacheKey, runnerCacheManifestKey, runnerParameterName } from "../../../contract/names.js";
import {
  bootstrapVariables,
  readBootstrapScript,
  renderUserData,
  shellQuote,
  USER_DATA_LIMIT_BYTES,
  type BootstrapSettings,
} from "../../../program/ephemeral-runners/user-data.js";

const SETTINGS: BootstrapSettings = {
  CIRUNNERS_PARAMETER_PREFIX: "/cirunners/dev/runners",
  CIRUNNERS_RUNNER_CACHE_BUCKET: "cirunners-dev-runner-cache-1a2b3c",
  CIRUNNERS_RUNNER_ARCH: "arm64",
  CIRUNNERS_LOG_GROUP: "/cirunners/dev/runners",
  CIRUNNERS_PARAMETER_WAIT_SECONDS: 90,
};

describe("renderUserData", () => {
  it("keeps the shebang first and exports every setting before the script body", () => {
    const userData = renderUserData(SETTINGS);
    const lines = userData.split("\n");
    assert.equal(lines[0], "#!/bin/bash");
    assert.deepEqual(lines.slice(1, 9), [
      "export CIRUNNERS_INSTANCE_ID_PLACEHOLDER='{instance-id}'",
      "export CIRUNNERS_LOG_GROUP='/cirunners/dev/runners'",
      "export CIRUNNERS_PARAMETER_WAIT_SECONDS='90'",
      "export CIRUNNERS_RUNNER_ARCH='arm64'",
      "export CIRUNNERS_RUNNER_CACHE_BUCKET='cirunners-dev-runner-cache-1a2b3c'",
      "export CIRUNNERS_RUNNER_MANIFEST_KEY='actions-runner/linux-arm64/manifest.json'",
      "export CIRUNNERS_RUNNER_PARAMETER_TEMPLATE='/cirunners/dev/runners/{instance-id}'",
      "export CIRUNNERS_RUNNER_TARBALL_KEY='actions-runner/linux-arm64/actions-runner.tar.gz'",
    ]);
    assert.equal(lines.slice(9).join("\n"), readBootstrapScript().split("\n").slice(1).join("\n"));
    assert.ok(Buffer.byteLength(userData) < USER_DATA_LIMIT_BYTES);
    assert.equal(spawnSync("bash", ["-n"], { input: userData }).status, 0, "the result is valid bash");
  });

  it("renders the parameter name and cache keys from the contract, which the script never spells", () => {
    const variables = bootstrapVariables(SETTINGS);
    assert.equal(
      variables.CIRUNNERS_RUNNER_PARAMETER_TEMPLATE.replace(variables.CIRUNNERS_INSTANCE_ID_PLACEHOLDER, "i-0abc"),
      runnerParameterName(SETTINGS.CIRUNNERS_PARAMETER_PREFIX, "i-0abc"),
    );
    assert.equal(variables.CIRUNNERS_RUNNER_TARBALL_KEY, runnerCacheKey("arm64"));
    assert.equal(variables.CIRUNNERS_RUNNER_MANIFEST_KEY, runnerCacheManifestKey("arm64"));
    const script = readBootstrapScript();
    // The cache folder, the placeholder and the prefix-trimming of the parameter rule.
    for (const spelled of ["actions-runner/linux", "linux-$", "{instance-id}", "%/}"]) {
      assert.ok(!script.includes(spelled), `bootstrap.sh spells ${spelled}`);
    }
  });

  it("names every invalid setting", () => {
    assert.throws(
      () => renderUserData({ ...SETTINGS, CIRUNNERS_RUNNER_ARCH: "x86" as "x64" }),
      /CIRUNNERS_RUNNER_ARCH/,
    );
    assert.throws(
      () => renderUserData({ ...SETTINGS, CIRUNNERS_PARAMETER_PREFIX: "runners" }),
      /CIRUNNERS_PARAMETER_PREFIX/,
    );
    assert.throws(
      () => renderUserData({ ...SETTINGS, CIRUNNERS_RUNNER_CACHE_BUCKET: "Bad_Bucket" }),
      /CIRUNNERS_RUNNER_CACHE_BUCKET/,
    );
    assert.throws(() => renderUserData({ ...SETTINGS, CIRUNNERS_LOG_GROUP: "a'; rm -rf /" }), /CIRUNNERS_LOG_GROUP/);
    assert.throws(
      () => renderUserData({ ...SETTINGS, CIRUNNERS_PARAMETER_WAIT_SECONDS: 0 }),
      /CIRUNNERS_PARAMETER_WAIT_SECONDS/,
    );
  });

  it("refuses a script without shebang and user data over 16 KB", () => {
    assert.throws(() => renderUserData(SETTINGS, "echo hi\n"), /shebang/);
    assert.throws(
      () => renderUserData(SETTINGS, `#!/bin/bash\n${"#".repeat(USER_DATA_LIMIT_BYTES)}\n`),
      /over EC2's limit/,
    );
  });
});

describe("shellQuote", () => {
  it("round-trips any string through bash unchanged and unexpanded", () => {
    fc.assert(
      fc.property(
        fc.string({ unit: "binary", maxLength: 40 }).filter((s) => !s.includes("\0")),
        (value) => {
          const out = spawnSync("bash", ["-c", `printf '%s' ${shellQuote(value)}`], { encoding: "utf8" });
          assert.equal(out.stdout, value);
        },
      ),
      { numRuns: 25 },
    );
  });

  it("quotes single quotes and shell syntax", () => {
    assert.equal(shellQuote("it's"), `'it'\\''s'`);
    assert.equal(shellQuote("$(reboot)"), `'$(reboot)'`);
  });
});
