/**
 * A stubbed instance for the runner bootstrap: a temp dir of stub executables first on PATH that record their
 * calls and behave like the image they stand for (Amazon Linux 2023 or Ubuntu: os-release, which tools exist
 * before installation, what the package managers install). tar, sha256sum, timeout and coreutils are real.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runnerCacheKey, runnerCacheManifestKey } from "../../../contract/names.js";
import { type BootstrapSettings, renderUserData } from "../../../program/ephemeral-runners/user-data.js";

export const INSTANCE_ID = "i-0123456789abcdef0";
export const JIT = "eyJydW5uZXIiOiJsaW51eC14NjQtOTAwMS1hYmMxMjMifQ==";
export const SETTINGS: BootstrapSettings = {
  CIRUNNERS_PARAMETER_PREFIX: "/cirunners/test/runners",
  CIRUNNERS_RUNNER_CACHE_BUCKET: "cirunners-test-runner-cache",
  CIRUNNERS_RUNNER_ARCH: "x64",
  CIRUNNERS_LOG_GROUP: "/cirunners/test/runners",
  CIRUNNERS_PARAMETER_WAIT_SECONDS: 2,
  CIRUNNERS_POOL: "linux-x64",
  CIRUNNERS_DOCKER: true,
  CIRUNNERS_SUDO: false,
};
export const TARBALL_KEY = runnerCacheKey(SETTINGS.CIRUNNERS_RUNNER_ARCH);
export const MANIFEST_KEY = runnerCacheManifestKey(SETTINGS.CIRUNNERS_RUNNER_ARCH);

export type Image = "al2023" | "ubuntu-22.04" | "ubuntu-24.04" | "debian-12";

const OS_RELEASE: Record<Image, string> = {
  al2023: 'NAME="Amazon Linux"\nVERSION="2023"\nID="amzn"\nID_LIKE="fedora"\nVERSION_ID="2023"\n',
  "ubuntu-22.04": 'NAME="Ubuntu"\nID=ubuntu\nID_LIKE=debian\nVERSION_ID="22.04"\n',
  "ubuntu-24.04": 'NAME="Ubuntu"\nID=ubuntu\nID_LIKE=debian\nVERSION_ID="24.04"\n',
  "debian-12": 'NAME="Debian GNU/Linux"\nID=debian\nVERSION_ID="12"\n',
};

/** Installs a stub that a package manager "installs" (copied from the state dir into bin). */
const INSTALL = `install_tool() { cp "$STATE/tools/$1" "$BIN/$1"; chmod +x "$BIN/$1"; }`;

const STUBS: Record<string, string> = {
  curl: `
case "$*" in
  *"-X PUT"*"/latest/api/token"*) [ -f "$STATE/imds-down" ] && exit 7; echo imds-token ;;
  *"meta-data/instance-id"*) echo ${INSTANCE_ID} ;;
  *"meta-data/placement/region"*) echo eu-west-1 ;;
  *amazon-cloudwatch-agent.deb*|*awscli-exe*) [ -f "$STATE/download-fails" ] && exit 22
    case "$*" in *awscli-exe*) [ -f "$STATE/cli-download-fails" ] && exit 22 ;; esac
    for a in "$@"; do [ "$prev" = "-o" ] && touch "$a"; prev="$a"; done ;;
  *) exit 22 ;;
esac`,
  id: `[ "$1" = runner ] && [ -f "$STATE/user-created" ] && exit 0; [ "$1" = runner ] && exit 1; exec /usr/bin/id "$@"`,
  useradd: `[ -f "$STATE/useradd-fails" ] && exit 9; touch "$STATE/user-created"`,
  getent: `[ "$1 $2" = "group docker" ] && [ -f "$STATE/docker" ] && { echo "docker:x:990:"; exit 0; }; exit 2`,
  usermod: `exit 0`,
  chown: `exit 0`,
  mount: `exit 0`,
  systemctl: `[ "$*" = "start docker" ] && [ -f "$STATE/docker-fails" ] && exit 1; exit 0`,
  visudo: `[ -f "$STATE/visudo-fails" ] && exit 1; exit 0`,
  dnf: `${INSTALL}
[ -f "$STATE/packages-fail" ] && exit 1
case " $* " in *" amazon-cloudwatch-agent "*) install_tool amazon-cloudwatch-agent-ctl ;; esac
case " $* " in *" docker "*) touch "$STATE/docker" ;; esac
case " $* " in *" awscli-2 "*) install_tool aws ;; esac
exit 0`,
  "apt-get": `[ -f "$STATE/packages-fail" ] && [ "$*" != "\${*%install*}" ] && exit 100
case " $* " in *" docker.io "*) touch "$STATE/docker" ;; esac
exit 0`,
  dpkg: `${INSTALL}
install_tool amazon-cloudwatch-agent-ctl`,
  unzip: `for a in "$@"; do [ "$prev" = "-d" ] && dest="$a"; prev="$a"; done
mkdir -p "$dest/aws"; printf '#!/bin/bash\\ncp "%s/tools/aws" "%s/aws"\\n' "$STATE" "$BIN" > "$dest/aws/install"; chmod +x "$dest/aws/install"`,
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

/** Tools the image may lack until something installs them. */
const TOOLS: Record<string, string> = {
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
  "cloudwatch put-metric-data") exit 0 ;;
  *) exit 2 ;;
esac`,
  "amazon-cloudwatch-agent-ctl": `exit 0`,
};

export interface Sandbox {
  root: string;
  bin: string;
  state: string;
  calls: string;
  userData: string;
  runnerHome: string;
  sudoers: string;
  marker: string;
}

export interface SandboxOptions {
  image?: Image;
  settings?: Partial<BootstrapSettings>;
  /** Tools already on the image. Default: AL2023 has the AWS CLI, Ubuntu has nothing. */
  preinstalled?: Array<keyof typeof TOOLS>;
  /** A baked image: runner unpacked, user created, docker group present, marker written. */
  baked?: boolean;
  tarballSha?: string;
}

function writeTool(file: string, name: string, body: string, state: string, bin: string, calls: string) {
  writeFileSync(
    file,
    `#!/bin/bash\nSTATE='${state}'\nBIN='${bin}'\nprintf '%s\\n' "${name} $*" >> '${calls}'\n${body}\n`,
  );
  chmodSync(file, 0o755);
}

export function makeSandbox(options: SandboxOptions = {}): Sandbox {
  const image = options.image ?? "al2023";
  const arch = options.settings?.CIRUNNERS_RUNNER_ARCH ?? SETTINGS.CIRUNNERS_RUNNER_ARCH;
  const [tarballKey, manifestKey] = [runnerCacheKey(arch), runnerCacheManifestKey(arch)];
  const root = mkdtempSync(join(tmpdir(), "cirunners-bootstrap-"));
  const [bin, state, payload] = ["bin", "state", "payload"].map((d) => join(root, d));
  const calls = join(root, "calls.log");
  mkdirSync(bin);
  mkdirSync(join(state, "tools"), { recursive: true });
  mkdirSync(join(state, "s3", tarballKey, ".."), { recursive: true });
  for (const [name, body] of Object.entries(STUBS)) writeTool(join(bin, name), name, body, state, bin, calls);
  const preinstalled = options.preinstalled ?? (image === "al2023" ? ["aws"] : []);
  for (const [name, body] of Object.entries(TOOLS)) {
    writeTool(join(state, "tools", name), name, body, state, bin, calls);
    if (preinstalled.includes(name) || options.baked) writeTool(join(bin, name), name, body, state, bin, calls);
  }
  writeFileSync(join(root, "os-release"), OS_RELEASE[image]);
  // The runner: run.sh records who runs it; its worker log shows it took a job unless the state says otherwise.
  mkdirSync(payload);
  writeFileSync(
    join(payload, "run.sh"),
    `#!/bin/bash\nprintf 'run.sh as=%s args=%s\\n' "$(cat '${state}/running-as' 2>/dev/null || echo nobody)" "$*" >> '${calls}'\n` +
      `[ -f '${state}/no-job' ] || { mkdir -p _diag && touch _diag/Worker_20250101-000000-utc.log; }\n` +
      `exit "$(cat '${state}/runner-exit' 2>/dev/null || echo 0)"\n`,
  );
  chmodSync(join(payload, "run.sh"), 0o755);
  const tarball = join(state, "s3", tarballKey);
  const tar = spawnSync("tar", ["-czf", tarball, "-C", payload, "."]);
  assert.equal(tar.status, 0, tar.stderr.toString());
  const sha = options.tarballSha ?? createHash("sha256").update(readFileSync(tarball)).digest("hex");
  writeFileSync(
    join(state, "s3", manifestKey),
    JSON.stringify({ version: "2.330.0", sha256: sha, fetchedAt: "2025-01-01T00:00:00Z" }, null, 2),
  );
  writeFileSync(join(state, "parameter"), JIT);
  const runnerHome = join(root, "home-runner");
  const marker = join(root, "runner-image.json");
  if (options.baked) {
    mkdirSync(join(runnerHome, "actions-runner"), { recursive: true });
    assert.equal(spawnSync("tar", ["-xzf", tarball, "-C", join(runnerHome, "actions-runner")]).status, 0);
    writeFileSync(join(state, "user-created"), "");
    writeFileSync(join(state, "docker"), "");
    writeFileSync(marker, '{"runnerVersion":"2.330.0"}\n');
  }
  const userData = join(root, "user-data.sh");
  // The marker's real path is /etc/...: the rendered value is pointed into the sandbox, as the other paths are.
  const rendered = renderUserData({ ...SETTINGS, ...options.settings }).replace(
    /^export CIRUNNERS_IMAGE_MARKER=.*$/m,
    `export CIRUNNERS_IMAGE_MARKER='${marker}'`,
  );
  writeFileSync(userData, rendered);
  return { root, bin, state, calls, userData, runnerHome, sudoers: join(root, "sudoers-runner"), marker };
}

export function runBootstrap(sandbox: Sandbox) {
  const result = spawnSync("bash", [sandbox.userData], {
    env: {
      PATH: `${sandbox.bin}:/usr/bin:/bin`,
      HOME: sandbox.root,
      CIRUNNERS_IMDS_ENDPOINT: "http://imds.invalid",
      CIRUNNERS_OS_RELEASE: join(sandbox.root, "os-release"),
      CIRUNNERS_BOOTSTRAP_LOG: join(sandbox.root, "bootstrap.log"),
      CIRUNNERS_RUNNER_HOME: sandbox.runnerHome,
      CIRUNNERS_SUDOERS_FILE: sandbox.sudoers,
      CIRUNNERS_CW_AGENT_CONFIG: join(sandbox.root, "cw-agent.json"),
      CIRUNNERS_PARAMETER_POLL_SECONDS: "0.1",
    },
    timeout: 30_000,
  });
  const calls = existsSync(sandbox.calls) ? readFileSync(sandbox.calls, "utf8").trim().split("\n") : [];
  const log = existsSync(join(sandbox.root, "bootstrap.log"))
    ? readFileSync(join(sandbox.root, "bootstrap.log"), "utf8")
    : "";
  return { status: result.status, calls, log };
}

export const callIndex = (calls: string[], prefix: string) => calls.findIndex((c) => c.startsWith(prefix));
