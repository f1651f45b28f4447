import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import fc from "fast-check";
import { METRIC } from "../../../contract/metrics.js";
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
  CIRUNNERS_POOL: "linux-arm64",
  CIRUNNERS_DOCKER: false,
  CIRUNNERS_SUDO: true,
};

describe("renderUserData", () => {
  it("keeps the shebang first and exports every setting before the script body", () => {
    const userData = renderUserData(SETTINGS);
    const lines = userData.split("\n");
    assert.equal(lines[0], "#!/bin/bash");
    assert.deepEqual(lines.slice(1, 19), [
      "export CIRUNNERS_AWS_CLI_URL='https://awscli.amazonaws.com/awscli-exe-linux-aarch64.zip'",
      "export CIRUNNERS_CW_AGENT_DEB_URL='https://amazoncloudwatch-agent.s3.amazonaws.com/ubuntu/arm64/latest/amazon-cloudwatch-agent.deb'",
      "export CIRUNNERS_DOCKER='false'",
      "export CIRUNNERS_IMAGE_MARKER='/etc/cirunners/runner-image.json'",
      "export CIRUNNERS_INSTANCE_ID_PLACEHOLDER='{instance-id}'",
      "export CIRUNNERS_LOG_GROUP='/cirunners/dev/runners'",
      "export CIRUNNERS_METRICS_NAMESPACE='cirunners'",
      "export CIRUNNERS_PARAMETER_WAIT_SECONDS='90'",
      "export CIRUNNERS_POOL='linux-arm64'",
      "export CIRUNNERS_POOL_DIMENSION='pool'",
      "export CIRUNNERS_RUNNER_ARCH='arm64'",
      "export CIRUNNERS_RUNNER_CACHE_BUCKET='cirunners-dev-runner-cache-1a2b3c'",
      "export CIRUNNERS_RUNNER_MANIFEST_KEY='actions-runner/linux-arm64/manifest.json'",
      "export CIRUNNERS_RUNNER_PARAMETER_TEMPLATE='/cirunners/dev/runners/{instance-id}'",
      "export CIRUNNERS_RUNNER_TARBALL_KEY='actions-runner/linux-arm64/actions-runner.tar.gz'",
      "export CIRUNNERS_START_FAILURE_METRIC='RunnerStartFailures'",
      "export CIRUNNERS_START_FAILURE_TOKEN='RUNNER_START_FAILURE'",
      "export CIRUNNERS_SUDO='true'",
    ]);
    assert.equal(lines.slice(19).join("\n"), readBootstrapScript().split("\n").slice(1).join("\n"));
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
    // The cache folder, the placeholder, the prefix-trimming of the parameter rule, the metric's names, the marker.
    for (const spelled of [
      "actions-runner/linux",
      "linux-$",
      "{instance-id}",
      "%/}",
      METRIC.runnerStartFailures,
      "/etc/cirunners/",
      "amazoncloudwatch-agent.s3",
      "awscli.amazonaws.com",
    ]) {
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
    assert.throws(() => renderUserData({ ...SETTINGS, CIRUNNERS_POOL: "a b'" }), /CIRUNNERS_POOL/);
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

describe("user data size", () => {
  // Every combination a pool can make, with the longest values config validation lets through: pool names are at
  // most 32 characters, bucket names 63, log group names follow the stack name.
  const longest: BootstrapSettings = {
    CIRUNNERS_PARAMETER_PREFIX: `/cirunners/${"s".repeat(40)}/runners`,
    CIRUNNERS_RUNNER_CACHE_BUCKET: `b${"-".repeat(61)}b`,
    CIRUNNERS_RUNNER_ARCH: "x64",
    CIRUNNERS_LOG_GROUP: `/cirunners/${"s".repeat(40)}/runners`,
    CIRUNNERS_PARAMETER_WAIT_SECONDS: 3600,
    CIRUNNERS_POOL: `p${"-".repeat(30)}p`,
    CIRUNNERS_DOCKER: true,
    CIRUNNERS_SUDO: true,
  };
  for (const arch of ["x64", "arm64"] as const)
    for (const docker of [true, false])
      for (const sudo of [true, false])
        it(`stays under 16 KB with 1 KB to spare: ${arch}, docker ${docker}, sudo ${sudo}`, () => {
          const settings = { ...longest, CIRUNNERS_RUNNER_ARCH: arch, CIRUNNERS_DOCKER: docker, CIRUNNERS_SUDO: sudo };
          const size = Buffer.byteLength(renderUserData(settings));
          assert.ok(size <= USER_DATA_LIMIT_BYTES - 1024, `${size} bytes`);
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
