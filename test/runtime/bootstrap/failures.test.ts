/**
 * Every step of the bootstrap that can fail powers the instance off without starting the runner, and reports a
 * start failure first: the log line with its token and reason, and the RunnerStartFailures metric in the
 * contract's namespace with the pool dimension. So does a runner that exits without having taken a job.
 */
import assert from "node:assert/strict";
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { METRIC, POOL_DIMENSION } from "../../../contract/metrics.js";
import { METRICS_NAMESPACE } from "../../../contract/names.js";
import { START_FAILURE_TOKEN } from "../../../program/ephemeral-runners/user-data.js";
import { MANIFEST_KEY, makeSandbox, runBootstrap, type Sandbox, type SandboxOptions, TARBALL_KEY } from "./sandbox.js";

const METRIC_CALL = `aws cloudwatch put-metric-data --namespace ${METRICS_NAMESPACE} --metric-name ${METRIC.runnerStartFailures} --dimensions ${POOL_DIMENSION}=linux-x64 --value 1 --unit Count`;

interface Failure {
  name: string;
  options?: SandboxOptions;
  /** Breaks the sandbox. */
  arrange: (s: Sandbox) => void;
  /** The reason the report gives. */
  reason: string;
  /** Whether the runner ran (and exited before a job) rather than never starting. */
  ran?: boolean;
  /** False when the failure comes before the AWS CLI or the region is known: the log line is the only signal. */
  metric?: boolean;
}

const touch = (file: string) => (s: Sandbox) => writeFileSync(join(s.state, file), "");

const FAILURES: Failure[] = [
  { name: "IMDS does not answer", arrange: touch("imds-down"), reason: "instance metadata", metric: false },
  {
    name: "the image is not a supported distribution",
    options: { image: "debian-12", preinstalled: ["aws"] },
    arrange: () => undefined,
    reason: "unsupported image: debian 12",
  },
  { name: "dnf cannot install", arrange: touch("packages-fail"), reason: "dnf install" },
  {
    name: "apt-get cannot install (Ubuntu, no AWS CLI yet)",
    options: { image: "ubuntu-22.04" },
    arrange: touch("packages-fail"),
    reason: "apt-get install",
    metric: false,
  },
  {
    name: "the CloudWatch agent's .deb cannot be downloaded",
    options: { image: "ubuntu-24.04", preinstalled: ["aws"] },
    arrange: touch("download-fails"),
    reason: "CloudWatch agent download",
  },
  {
    name: "the AWS CLI cannot be downloaded",
    options: { image: "ubuntu-24.04" },
    arrange: touch("cli-download-fails"),
    reason: "AWS CLI install",
    metric: false,
  },
  { name: "the parameter never appears", arrange: (s) => rmSync(join(s.state, "parameter")), reason: "did not appear" },
  {
    name: "the manifest download fails",
    arrange: (s) => rmSync(join(s.state, "s3", MANIFEST_KEY)),
    reason: "runner download",
  },
  {
    name: "the tarball download fails",
    arrange: (s) => rmSync(join(s.state, "s3", TARBALL_KEY)),
    reason: "runner download",
  },
  {
    name: "the checksum does not match",
    options: { tarballSha: "0".repeat(64) },
    arrange: () => undefined,
    reason: "runner checksum",
  },
  { name: "the runner user cannot be created", arrange: touch("useradd-fails"), reason: "runner user" },
  { name: "docker does not start", arrange: touch("docker-fails"), reason: "docker" },
  {
    name: "the sudoers entry does not pass visudo",
    options: { settings: { CIRUNNERS_SUDO: true } },
    arrange: touch("visudo-fails"),
    reason: "sudo",
  },
  {
    name: "the runner exits before taking a job (e.g. no libicu)",
    arrange: (s) => {
      touch("no-job")(s);
      writeFileSync(join(s.state, "runner-exit"), "1");
    },
    reason: "runner exited with status 1 before taking a job",
    ran: true,
  },
];

describe("runner bootstrap failures", () => {
  const sandboxes: Sandbox[] = [];
  after(() => {
    for (const s of sandboxes) rmSync(s.root, { recursive: true, force: true });
  });

  for (const failure of FAILURES) {
    it(`${failure.name}: reports "${failure.reason}" and powers off`, () => {
      const s = makeSandbox(failure.options);
      sandboxes.push(s);
      failure.arrange(s);
      const { status, calls, log } = runBootstrap(s);
      assert.notEqual(status, 0, log);
      assert.equal(calls.at(-1), "poweroff", calls.join("\n"));
      const report = log.split("\n").find((l) => l.includes(START_FAILURE_TOKEN)) ?? "";
      assert.match(
        report,
        new RegExp(`${START_FAILURE_TOKEN} pool=linux-x64 instance=\\S+ reason=.*${failure.reason}`),
        log,
      );
      const metric = calls.indexOf(METRIC_CALL);
      if (failure.metric === false) assert.equal(metric, -1, calls.join("\n"));
      else
        assert.ok(metric >= 0 && metric < calls.length - 1, `the metric is put before power-off\n${calls.join("\n")}`);
      const runnerCalls = calls.filter((c) => c.startsWith("run.sh") || c.startsWith("runuser"));
      assert.equal(runnerCalls.length, failure.ran ? 2 : 0, calls.join("\n"));
    });
  }

  it("a setting missing from the user data stops the bootstrap before anything else", () => {
    const s = makeSandbox();
    sandboxes.push(s);
    writeFileSync(s.userData, readFileSync(s.userData, "utf8").replace(/^export CIRUNNERS_POOL=.*$/m, ""));
    const { status, calls, log } = runBootstrap(s);
    assert.notEqual(status, 0);
    assert.match(log, /CIRUNNERS_POOL is not set/);
    assert.deepEqual(calls, ["poweroff"]);
  });
});
