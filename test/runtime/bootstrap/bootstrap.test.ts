/**
 * The runner bootstrap's main path on a stock Amazon Linux 2023 image, in a stubbed shell (sandbox.ts): the JIT
 * config read and deleted, the runner downloaded and verified, run as the runner user, the logs shipped, and the
 * instance powered off at the end.
 */
import assert from "node:assert/strict";
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { runnerParameterName } from "../../../contract/names.js";
import {
  callIndex,
  INSTANCE_ID,
  JIT,
  MANIFEST_KEY,
  makeSandbox,
  runBootstrap,
  type Sandbox,
  type SandboxOptions,
  SETTINGS,
  TARBALL_KEY,
} from "./sandbox.js";

describe("runner bootstrap script", () => {
  const sandboxes: Sandbox[] = [];
  const sandbox = (options?: SandboxOptions) => {
    const s = makeSandbox(options);
    sandboxes.push(s);
    return s;
  };
  after(() => {
    for (const s of sandboxes) rmSync(s.root, { recursive: true, force: true });
  });

  it("installs, reads and deletes the parameter, verifies the tarball, runs run.sh as runner, then powers off", () => {
    const s = sandbox();
    const { status, calls, log } = runBootstrap(s);
    assert.equal(status, 0, log);
    // The names the launcher and the runner-cache function use, by the contract's rules.
    const parameter = runnerParameterName(SETTINGS.CIRUNNERS_PARAMETER_PREFIX, INSTANCE_ID);
    const bucket = `s3://${SETTINGS.CIRUNNERS_RUNNER_CACHE_BUCKET}`;
    const order = [
      callIndex(calls, "dnf install"),
      callIndex(calls, "amazon-cloudwatch-agent-ctl -a fetch-config -m ec2 -s"),
      callIndex(calls, `aws ssm get-parameter --name ${parameter} --with-decryption`),
      callIndex(calls, `aws ssm delete-parameter --name ${parameter}`),
      callIndex(calls, `aws s3 cp --only-show-errors ${bucket}/${MANIFEST_KEY}`),
      callIndex(calls, `aws s3 cp --only-show-errors ${bucket}/${TARBALL_KEY}`),
      callIndex(calls, "useradd --create-home"),
      callIndex(calls, "runuser -u runner --"),
      calls.indexOf(`run.sh as=runner args=--jitconfig ${JIT}`),
      callIndex(calls, "amazon-cloudwatch-agent-ctl -a stop"),
      callIndex(calls, "poweroff"),
    ];
    assert.ok(
      order.every((at, i) => at >= 0 && (i === 0 || at > order[i - 1])),
      `${order.join(",")}\n${calls.join("\n")}`,
    );
    assert.equal(calls.at(-1), "poweroff", "powering off is the last thing it does");
    assert.match(log, /sha256 verified/);
    assert.match(log, /pool linux-x64, al2023 2023, runner x64, baked image: false/);
    assert.doesNotMatch(log, /RUNNER_START_FAILURE/);
    assert.ok(!calls.some((c) => c.startsWith("aws cloudwatch")), "no failure metric for a runner that ran its job");
    assert.ok(!existsSync(join(s.state, "parameter")), "the parameter was deleted");
    // the JIT config appears on no command line but run.sh's (the runner user's own process)
    assert.deepEqual(
      calls.filter((c) => c.includes(JIT)),
      [`run.sh as=runner args=--jitconfig ${JIT}`],
    );
    const agentConfig = JSON.parse(readFileSync(join(s.root, "cw-agent.json"), "utf8"));
    const files = agentConfig.logs.logs_collected.files.collect_list;
    assert.equal(files[0].log_group_name, SETTINGS.CIRUNNERS_LOG_GROUP);
    assert.equal(files[0].log_stream_name, INSTANCE_ID);
    assert.equal(files[0].file_path, join(s.root, "bootstrap.log"));
    assert.match(files[1].file_path, /actions-runner\/_diag\/\*\.log$/);
  });

  it("waits for a parameter that appears late", () => {
    const s = sandbox();
    writeFileSync(join(s.state, "appear-after"), "4");
    const { status, calls } = runBootstrap(s);
    assert.equal(status, 0);
    assert.equal(calls.filter((c) => c.startsWith("aws ssm get-parameter")).length, 4);
    assert.ok(calls.includes(`run.sh as=runner args=--jitconfig ${JIT}`));
  });

  it("a job that fails is no start failure: the runner took it, so the instance just ends", () => {
    const s = sandbox();
    writeFileSync(join(s.state, "runner-exit"), "1");
    const { status, calls, log } = runBootstrap(s);
    assert.equal(status, 0, log);
    assert.match(log, /runner exited with status 1/);
    assert.doesNotMatch(log, /RUNNER_START_FAILURE/);
    assert.equal(calls.at(-1), "poweroff");
  });

  it("carries on without log shipping when the agent is missing on a baked image", () => {
    const s = sandbox({ baked: true });
    rmSync(join(s.bin, "amazon-cloudwatch-agent-ctl"));
    const { status, calls, log } = runBootstrap(s);
    assert.equal(status, 0, log);
    assert.match(log, /could not start the CloudWatch agent/);
    assert.ok(calls.includes(`run.sh as=runner args=--jitconfig ${JIT}`));
  });

  it("falls back to shutdown -h now when poweroff is not available", () => {
    const s = sandbox();
    writeFileSync(join(s.bin, "poweroff"), `#!/bin/bash\nprintf '%s\\n' "poweroff $*" >> '${s.calls}'\nexit 1\n`);
    rmSync(join(s.state, "parameter"));
    const { calls } = runBootstrap(s);
    assert.equal(calls.at(-1), "shutdown -h now");
  });
});
