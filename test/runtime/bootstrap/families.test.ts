/**
 * What the bootstrap installs on each supported image, and what each pool setting gives the runner user:
 * Amazon Linux 2023 through dnf, Ubuntu 22.04 / 24.04 through apt-get plus AWS's CloudWatch agent .deb and AWS CLI
 * installer; docker and its group, passwordless sudo; nothing at all on a baked image.
 */
import assert from "node:assert/strict";
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  AL2023_DOCKER_PACKAGE,
  AL2023_RUNNER_PACKAGES,
  awsCliUrl,
  cloudWatchAgentDebUrl,
} from "../../../program/runner-images/names.js";
import { callIndex, JIT, makeSandbox, runBootstrap, type Sandbox, type SandboxOptions } from "./sandbox.js";

const words = (call: string | undefined) => (call ?? "").split(" ");

describe("runner bootstrap on each image", () => {
  const sandboxes: Sandbox[] = [];
  const sandbox = (options?: SandboxOptions) => {
    const s = makeSandbox(options);
    sandboxes.push(s);
    return s;
  };
  after(() => {
    for (const s of sandboxes) rmSync(s.root, { recursive: true, force: true });
  });

  it("Amazon Linux 2023: one dnf install of the packages the baked image has too, docker started, runner in its group", () => {
    const s = sandbox({ image: "al2023" });
    const { status, calls, log } = runBootstrap(s);
    assert.equal(status, 0, log);
    const dnf = calls.filter((c) => c.startsWith("dnf "));
    assert.equal(dnf.length, 1, dnf.join("\n"));
    const installed = words(dnf[0]).filter((w) => !w.startsWith("-") && w !== "dnf" && w !== "install");
    assert.deepEqual(installed.sort(), [...AL2023_RUNNER_PACKAGES, AL2023_DOCKER_PACKAGE].sort());
    assert.ok(!calls.some((c) => /^(apt-get|dpkg|unzip) /.test(c)), "no Debian tools on Amazon Linux");
    const start = callIndex(calls, "systemctl start docker");
    const join_ = calls.indexOf("usermod -aG docker runner");
    assert.ok(start >= 0 && join_ > start && join_ < callIndex(calls, "runuser"), calls.join("\n"));
    assert.ok(!existsSync(s.sudoers), "no sudo by default");
  });

  it("Amazon Linux 2023 without the AWS CLI installs awscli-2 in the same dnf call", () => {
    const s = sandbox({ image: "al2023", preinstalled: [] });
    const { status, calls, log } = runBootstrap(s);
    assert.equal(status, 0, log);
    assert.ok(words(calls.find((c) => c.startsWith("dnf install"))).includes("awscli-2"));
    assert.ok(calls.includes(`run.sh as=runner args=--jitconfig ${JIT}`));
  });

  it("a pool without docker: not installed, not started, the runner in no docker group", () => {
    const s = sandbox({ settings: { CIRUNNERS_DOCKER: false } });
    const { status, calls } = runBootstrap(s);
    assert.equal(status, 0);
    assert.ok(!words(calls.find((c) => c.startsWith("dnf install"))).includes("docker"));
    assert.ok(!calls.some((c) => c.startsWith("systemctl") || c.startsWith("usermod")), calls.join("\n"));
  });

  for (const [image, release] of [
    ["ubuntu-22.04", ["libicu70", "liblttng-ust1", "libssl3"]],
    ["ubuntu-24.04", ["libicu74", "liblttng-ust1t64", "libssl3t64"]],
  ] as const) {
    for (const arch of ["x64", "arm64"] as const) {
      it(`${image} ${arch}: apt-get with the release's packages, the agent's .deb, the AWS CLI installed first`, () => {
        const s = sandbox({ image, settings: { CIRUNNERS_RUNNER_ARCH: arch } });
        const { status, calls, log } = runBootstrap(s);
        assert.equal(status, 0, log);
        assert.ok(!calls.some((c) => c.startsWith("dnf")), "Ubuntu has no dnf");
        const update = callIndex(calls, "apt-get -q -o DPkg::Lock::Timeout=300 update");
        const install = callIndex(calls, "apt-get -y -q -o DPkg::Lock::Timeout=300 install --no-install-recommends");
        assert.ok(update >= 0 && install > update, calls.join("\n"));
        const packages = words(calls[install]);
        for (const p of [...release, "git", "libkrb5-3", "zlib1g", "docker.io", "unzip"])
          assert.ok(packages.includes(p), `${p} in ${calls[install]}`);
        const deb = callIndex(calls, `curl -sSfL --retry 3 -o`);
        assert.ok(calls[deb].endsWith(cloudWatchAgentDebUrl(arch)), calls[deb]);
        assert.ok(callIndex(calls, "dpkg -i -E") > deb);
        const cli = calls.findIndex((c) => c.endsWith(awsCliUrl(arch)));
        assert.ok(cli > install && callIndex(calls, "unzip -q") > cli, calls.join("\n"));
        // The CLI is installed before the first AWS call needs it.
        assert.ok(callIndex(calls, "aws ssm get-parameter") > callIndex(calls, "unzip -q"));
        assert.ok(calls.includes("usermod -aG docker runner"));
        assert.ok(calls.includes(`run.sh as=runner args=--jitconfig ${JIT}`));
      });
    }
  }

  it("Ubuntu with the AWS CLI already there downloads no installer", () => {
    const s = sandbox({ image: "ubuntu-24.04", preinstalled: ["aws"] });
    const { status, calls } = runBootstrap(s);
    assert.equal(status, 0);
    assert.ok(!calls.some((c) => c.includes("awscli-exe") || c.startsWith("unzip")), calls.join("\n"));
  });

  it("passwordless sudo when the pool asks for it, checked by visudo before it takes effect", () => {
    const s = sandbox({ settings: { CIRUNNERS_SUDO: true } });
    const { status, calls, log } = runBootstrap(s);
    assert.equal(status, 0, log);
    assert.equal(readFileSync(s.sudoers, "utf8"), "runner ALL=(ALL) NOPASSWD:ALL\n");
    assert.ok(callIndex(calls, `visudo -cqf ${s.sudoers}.tmp`) >= 0);
  });

  it("no sudo: a sudoers entry an image carries for the runner is removed", () => {
    const s = sandbox({ baked: true });
    writeFileSync(s.sudoers, "runner ALL=(ALL) NOPASSWD:ALL\n");
    const { status } = runBootstrap(s);
    assert.equal(status, 0);
    assert.ok(!existsSync(s.sudoers));
  });

  it("a baked image: no package manager, no downloads, straight to the preinstalled runner", () => {
    const s = sandbox({ baked: true, image: "al2023" });
    const { status, calls, log } = runBootstrap(s);
    assert.equal(status, 0, log);
    assert.match(log, /baked image: true/);
    assert.ok(
      !calls.some(
        (c) => /^(dnf|apt-get|dpkg|unzip|useradd) /.test(c) || c.startsWith("aws s3") || c.startsWith("curl -sSfL"),
      ),
      calls.join("\n"),
    );
    assert.ok(calls.includes("systemctl start docker") && calls.includes("usermod -aG docker runner"));
    assert.ok(calls.includes(`run.sh as=runner args=--jitconfig ${JIT}`));
    assert.ok(existsSync(join(s.runnerHome, "actions-runner", "_diag")));
  });
});
