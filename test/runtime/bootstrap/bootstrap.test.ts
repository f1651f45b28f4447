/**
 * The runner bootstrap script, run with `bash` in a stubbed environment: a temp dir of stub executables first on
 * PATH (curl for IMDS, aws, useradd, id, getent, usermod, chown, mount, runuser, dnf, the CloudWatch agent,
 * poweroff, shutdown) that record their calls. tar, sha256sum and coreutils are the real ones.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runnerCacheKey, runnerCacheManifestKey, runnerParameterName } from "../../../contract/names.js";
import { type BootstrapSettings, renderUserData } from "../../../program/ephemeral-runners/user-data.js";

const INSTANCE_ID = "i-0123456789abcdef0";
const JIT = "eyJydW5uZXIiOiJsaW51eC14NjQtOTAwMS1hYmMxMjMifQ==";
const SETTINGS: BootstrapSettings = {
  CIRUNNERS_PARAMETER_PREFIX: "/cirunners/test/runners",
  CIRUNNERS_RUNNER_CACHE_BUCKET: "cirunners-test-runner-cache",
  CIRUNNERS_RUNNER_ARCH: "x64",
  CIRUNNERS_LOG_GROUP: "/cirunners/test/runners",
  CIRUNNERS_PARAMETER_WAIT_SECONDS: 2,
};

const TARBALL_KEY = runnerCacheKey(SETTINGS.CIRUNNERS_RUNNER_ARCH);
const MANIFEST_KEY = runnerCacheManifestKey(SETTINGS.CIRUNNERS_RUNNER_ARCH);

interface Sandbox {
  root: string;
  bin: string;
  state: string;
  calls: string;
  userData: string;
}

const STUBS: Record<string, string> = {
  curl: `
case "$*" in
  *"-X PUT"*"/latest/api/token"*) [ -f "$STATE/imds-down" ] && exit 7; echo imds-token ;;
  *"meta-data/instance-id"*) echo ${INSTANCE_ID} ;;
  *"meta-data/placement/region"*) echo eu-west-1 ;;
  *) exit 22 ;;
esac`,
  aws: `
case "$1 $2" in
  "ssm get-parameter")
    n=$(( $(cat "$STATE/get-count" 2>/dev/null || echo 0) + 1 )); echo "$n" > "$STATE/get-count"
    appear_after=$(cat "$STATE/appear-after" 2>/dev/null || echo 1)
    if [ -f "$STATE/parameter" ] && [ "$n" -ge "$appear_after" ]; then cat "$STATE/parameter"; else echo "ParameterNotFound" >&2; exit 254; fi ;;
  "ssm delete-parameter") rm -f "$STATE/parameter" ;;
  "s3 cp")
    for a in "$@"; do case "$a" in s3://*) src="$a" ;; esac; done
    dst="\${@: -1}"; key="\${src#s3://*/}"
    [ -f "$STATE/s3/$key" ] || { echo "fatal error: 404 $src" >&2; exit 1; }
    cp "$STATE/s3/$key" "$dst" ;;
  *) exit 2 ;;
esac`,
  id: `[ "$1" = runner ] && [ -f "$STATE/user-created" ] && exit 0; [ "$1" = runner ] && exit 1; exec /usr/bin/id "$@"`,
  useradd: `[ -f "$STATE/useradd-fails" ] && exit 9; touch "$STATE/user-created"`,
  getent: `[ "$1 $2" = "group docker" ] && [ -f "$STATE/docker" ] && { echo "docker:x:990:"; exit 0; }; exit 2`,
  usermod: `exit 0`,
  chown: `exit 0`,
  mount: `exit 0`,
  dnf: `exit 0`,
  "amazon-cloudwatch-agent-ctl": `exit 0`,
  poweroff: `exit 0`,
  shutdown: `exit 0`,
  runuser: `
[ "$1" = "-u" ] || exit 64
echo "$2" > "$STATE/running-as"
shift 2; [ "$1" = "--" ] && shift
"$@"; status=$?
rm -f "$STATE/running-as"
exit $status`,
};

function makeSandbox(options: { tarballSha?: string; withoutAgent?: boolean } = {}): Sandbox {
  const root = mkdtempSync(join(tmpdir(), "cirunners-bootstrap-"));
  const bin = join(root, "bin");
  const state = join(root, "state");
  const calls = join(root, "calls.log");
  mkdirSync(bin);
  mkdirSync(join(state, "s3", TARBALL_KEY, ".."), { recursive: true });
  for (const [name, body] of Object.entries(STUBS)) {
    if (options.withoutAgent && name === "amazon-cloudwatch-agent-ctl") continue;
    const file = join(bin, name);
    // every stub records its name and arguments, then behaves as above
    writeFileSync(file, `#!/bin/bash\nSTATE='${state}'\nprintf '%s\\n' "${name} $*" >> '${calls}'\n${body}\n`);
    chmodSync(file, 0o755);
  }
  // the runner tarball: a run.sh that records who runs it and with which arguments
  const payload = join(root, "payload");
  mkdirSync(payload);
  writeFileSync(
    join(payload, "run.sh"),
    `#!/bin/bash\nprintf 'run.sh as=%s args=%s\\n' "$(cat '${state}/running-as' 2>/dev/null || echo nobody)" "$*" >> '${calls}'\n`,
  );
  chmodSync(join(payload, "run.sh"), 0o755);
  const tarball = join(state, "s3", TARBALL_KEY);
  const tar = spawnSync("tar", ["-czf", tarball, "-C", payload, "."]);
  assert.equal(tar.status, 0, tar.stderr.toString());
  const sha = options.tarballSha ?? createHash("sha256").update(readFileSync(tarball)).digest("hex");
  writeFileSync(
    join(state, "s3", MANIFEST_KEY),
    JSON.stringify({ version: "2.330.0", sha256: sha, fetchedAt: "2025-01-01T00:00:00Z" }, null, 2),
  );
  writeFileSync(join(state, "parameter"), JIT);
  const userData = join(root, "user-data.sh");
  writeFileSync(userData, renderUserData(SETTINGS));
  return { root, bin, state, calls, userData };
}

function run(sandbox: Sandbox, extraEnv: Record<string, string> = {}) {
  const result = spawnSync("bash", [sandbox.userData], {
    env: {
      PATH: `${sandbox.bin}:${process.env.PATH}`,
      HOME: sandbox.root,
      CIRUNNERS_IMDS_ENDPOINT: "http://imds.invalid",
      CIRUNNERS_BOOTSTRAP_LOG: join(sandbox.root, "bootstrap.log"),
      CIRUNNERS_RUNNER_HOME: join(sandbox.root, "home-runner"),
      CIRUNNERS_CW_AGENT_CONFIG: join(sandbox.root, "cw-agent.json"),
      CIRUNNERS_PARAMETER_POLL_SECONDS: "0.1",
      ...extraEnv,
    },
    timeout: 30_000,
  });
  const calls = existsSync(sandbox.calls) ? readFileSync(sandbox.calls, "utf8").trim().split("\n") : [];
  const log = existsSync(join(sandbox.root, "bootstrap.log"))
    ? readFileSync(join(sandbox.root, "bootstrap.log"), "utf8")
    : "";
  return { status: result.status, calls, log };
}

const index = (calls: string[], prefix: string) => calls.findIndex((c) => c.startsWith(prefix));

describe("runner bootstrap script", () => {
  const sandboxes: Sandbox[] = [];
  const sandbox = (options?: Parameters<typeof makeSandbox>[0]) => {
    const s = makeSandbox(options);
    sandboxes.push(s);
    return s;
  };
  after(() => {
    for (const s of sandboxes) rmSync(s.root, { recursive: true, force: true });
  });

  it("reads and deletes the parameter, verifies the tarball, runs run.sh with the JIT config as runner, then powers off", () => {
    const s = sandbox();
    const { status, calls, log } = run(s);
    assert.equal(status, 0, log);
    // The names the launcher and the runner-cache function use, by the contract's rules.
    const parameter = runnerParameterName(SETTINGS.CIRUNNERS_PARAMETER_PREFIX, INSTANCE_ID);
    const bucket = `s3://${SETTINGS.CIRUNNERS_RUNNER_CACHE_BUCKET}`;
    const get = index(calls, `aws ssm get-parameter --name ${parameter} --with-decryption`);
    const del = index(calls, `aws ssm delete-parameter --name ${parameter}`);
    const manifest = index(calls, `aws s3 cp --only-show-errors ${bucket}/${MANIFEST_KEY}`);
    const tarball = index(calls, `aws s3 cp --only-show-errors ${bucket}/${TARBALL_KEY}`);
    const useradd = index(calls, "useradd --create-home");
    const runuser = index(calls, "runuser -u runner --");
    const runSh = calls.indexOf(`run.sh as=runner args=--jitconfig ${JIT}`);
    const poweroff = index(calls, "poweroff");
    assert.ok(
      get >= 0 &&
        get < del &&
        del < manifest &&
        manifest < tarball &&
        tarball < useradd &&
        useradd < runuser &&
        runuser < runSh &&
        runSh < poweroff,
      calls.join("\n"),
    );
    assert.equal(poweroff, calls.length - 1, "powering off is the last thing it does");
    assert.match(log, /sha256 verified/);
    assert.ok(!existsSync(join(s.state, "parameter")), "the parameter was deleted");
    // the JIT config appears on no command line but run.sh's (the runner user's own process)
    assert.deepEqual(
      calls.filter((c) => c.includes(JIT)),
      [`run.sh as=runner args=--jitconfig ${JIT}`],
    );
    assert.ok(!calls.some((c) => c.startsWith("usermod")), "no docker group to join");
    const agentConfig = JSON.parse(readFileSync(join(s.root, "cw-agent.json"), "utf8"));
    const files = agentConfig.logs.logs_collected.files.collect_list;
    assert.equal(files[0].log_group_name, SETTINGS.CIRUNNERS_LOG_GROUP);
    assert.equal(files[0].log_stream_name, INSTANCE_ID);
    assert.equal(files[0].file_path, join(s.root, "bootstrap.log"));
    assert.match(files[1].file_path, /actions-runner\/_diag\/\*\.log$/);
    assert.ok(index(calls, "amazon-cloudwatch-agent-ctl -a fetch-config -m ec2 -s") >= 0);
    assert.ok(
      index(calls, "amazon-cloudwatch-agent-ctl -a stop") > runSh,
      "the agent is stopped (flushed) before power-off",
    );
  });

  it("waits for a parameter that appears late", () => {
    const s = sandbox();
    writeFileSync(join(s.state, "appear-after"), "4");
    const { status, calls } = run(s);
    assert.equal(status, 0);
    assert.equal(calls.filter((c) => c.startsWith("aws ssm get-parameter")).length, 4);
    assert.ok(calls.includes(`run.sh as=runner args=--jitconfig ${JIT}`));
  });

  it("adds the runner to the docker group when docker is installed", () => {
    const s = sandbox();
    writeFileSync(join(s.state, "docker"), "");
    const { status, calls } = run(s);
    assert.equal(status, 0);
    assert.ok(calls.includes("usermod -aG docker runner"));
  });

  it("installs the CloudWatch agent when missing, and carries on if log shipping cannot start", () => {
    const s = sandbox({ withoutAgent: true });
    const { status, calls, log } = run(s);
    assert.equal(status, 0);
    assert.ok(calls.includes("dnf install -y -q amazon-cloudwatch-agent"));
    assert.match(log, /could not start the CloudWatch agent/);
    assert.ok(calls.includes(`run.sh as=runner args=--jitconfig ${JIT}`));
  });

  const failures: Array<{
    name: string;
    /** Breaks the sandbox; may return environment overrides for the script. */
    arrange: (s: Sandbox) => Record<string, string> | undefined | void;
    expectLog: RegExp;
    options?: Parameters<typeof makeSandbox>[0];
  }> = [
    {
      name: "the parameter never appears",
      arrange: (s) => rmSync(join(s.state, "parameter")),
      expectLog: /did not appear within 2s/,
    },
    {
      name: "the tarball download fails",
      arrange: (s) => rmSync(join(s.state, "s3", TARBALL_KEY)),
      expectLog: /failed at line \d+: aws s3 cp/,
    },
    {
      name: "the manifest download fails",
      arrange: (s) => rmSync(join(s.state, "s3", MANIFEST_KEY)),
      expectLog: /failed at line/,
    },
    {
      name: "the checksum does not match",
      arrange: () => undefined,
      options: { tarballSha: "0".repeat(64) },
      expectLog: /failed at line \d+: .*sha256sum/,
    },
    {
      name: "the runner user cannot be created",
      arrange: (s) => writeFileSync(join(s.state, "useradd-fails"), ""),
      expectLog: /failed at line \d+: useradd/,
    },
    {
      name: "IMDS does not answer",
      arrange: (s) => writeFileSync(join(s.state, "imds-down"), ""),
      expectLog: /bootstrap failed/,
    },
    { name: "a setting is missing", arrange: () => ({ CIRUNNERS_LOG_GROUP: "" }), expectLog: /bootstrap failed/ },
  ];
  for (const failure of failures) {
    it(`powers off without running the runner when ${failure.name}`, () => {
      const s = sandbox(failure.options);
      const env = failure.arrange(s) ?? {};
      if (env.CIRUNNERS_LOG_GROUP === "") {
        // user data with the setting emptied: the script must refuse to go on
        writeFileSync(
          s.userData,
          readFileSync(s.userData, "utf8").replace(/^export CIRUNNERS_LOG_GROUP=.*$/m, "export CIRUNNERS_LOG_GROUP=''"),
        );
      }
      const { status, calls, log } = run(s);
      assert.notEqual(status, 0);
      assert.ok(calls.includes("poweroff"), calls.join("\n"));
      assert.ok(!calls.some((c) => c.startsWith("run.sh") || c.startsWith("runuser")), calls.join("\n"));
      assert.match(log, failure.expectLog);
    });
  }

  it("falls back to shutdown -h now when poweroff is not available", () => {
    const s = sandbox();
    writeFileSync(join(s.bin, "poweroff"), `#!/bin/bash\nprintf '%s\\n' "poweroff $*" >> '${s.calls}'\nexit 1\n`);
    rmSync(join(s.state, "parameter"));
    const { calls } = run(s);
    assert.equal(calls.at(-1), "shutdown -h now");
  });
});
