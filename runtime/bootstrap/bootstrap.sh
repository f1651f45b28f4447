#!/bin/bash
# Runner bootstrap (EC2 user data). renderUserData() puts `export CIRUNNERS_...='...'` lines right below the
# shebang: the JIT parameter's name, cache keys, metric names and the baked-image marker come from the contract
# and the program, so this script never spells them. The instance runs one job, then powers off; the launch
# template's shutdown behaviour is "terminate", so powering off deletes it. ANY failure powers off at once (EXIT
# trap), and a runner that ends before taking a job is reported first (a log line and a metric the operator can
# alarm on): the job ledger's reconciler then gives the job another runner.
# Images: Amazon Linux 2023 and Ubuntu 22.04 / 24.04 (docs/runner-images.md). On a baked image (the marker file
# exists) everything is installed already and the script goes straight to the runner.
set -Eeuo pipefail

log() { printf '%s cirunners-bootstrap: %s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$*"; }
WORK_DIR=""
REGION=""
INSTANCE_ID=unknown
failure="setup"
log_agent_started=false

# The operator's alarm: one log line with a fixed token, and the start-failure metric (needs the AWS CLI, which
# is missing only when its own installation failed; the log line then stays the signal).
report_start_failure() {
  log "$CIRUNNERS_START_FAILURE_TOKEN pool=$CIRUNNERS_POOL instance=$INSTANCE_ID reason=$1"
  if [ -n "$REGION" ] && command -v aws >/dev/null 2>&1; then
    timeout 30 aws cloudwatch put-metric-data --namespace "$CIRUNNERS_METRICS_NAMESPACE" \
      --metric-name "$CIRUNNERS_START_FAILURE_METRIC" --dimensions "$CIRUNNERS_POOL_DIMENSION=$CIRUNNERS_POOL" \
      --value 1 --unit Count || log "WARNING: could not put the $CIRUNNERS_START_FAILURE_METRIC metric"
  fi
}

# Installed first, before anything can fail: whatever happens below, the instance ends.
power_off() {
  local status=$?
  trap - EXIT ERR
  # Nothing may stop the power-off now, an unset variable included.
  set +eu
  [ -n "$WORK_DIR" ] && rm -rf "$WORK_DIR"
  if [ "$status" -eq 0 ]; then log "runner finished: powering off"; else
    report_start_failure "$failure"
    log "bootstrap failed (exit $status): powering off"
  fi
  # Stopping the agent flushes what it has buffered, so the last lines reach CloudWatch.
  [ "$log_agent_started" = true ] && timeout 30 amazon-cloudwatch-agent-ctl -a stop >/dev/null 2>&1
  sync
  poweroff || shutdown -h now
  exit "$status"
}
trap power_off EXIT
trap 'log "failed at line $LINENO: $BASH_COMMAND"' ERR
# `failure` names the step under way: it is the reason the report gives. fail() ends with its own message.
fail() { failure="$1"; log "$1"; exit 1; }

# Fixed paths on the instance; overridable only so that the script can be tested without root.
IMDS="${CIRUNNERS_IMDS_ENDPOINT:-http://169.254.169.254}"
OS_RELEASE="${CIRUNNERS_OS_RELEASE:-/etc/os-release}"
BOOTSTRAP_LOG="${CIRUNNERS_BOOTSTRAP_LOG:-/var/log/cirunners-bootstrap.log}"
RUNNER_USER=runner
RUNNER_HOME="${CIRUNNERS_RUNNER_HOME:-/home/runner}"
RUNNER_DIR="$RUNNER_HOME/actions-runner"
SUDOERS_FILE="${CIRUNNERS_SUDOERS_FILE:-/etc/sudoers.d/cirunners-runner}"
CW_AGENT_CONFIG="${CIRUNNERS_CW_AGENT_CONFIG:-/opt/aws/amazon-cloudwatch-agent/etc/cirunners.json}"
POLL_SECONDS="${CIRUNNERS_PARAMETER_POLL_SECONDS:-2}"

exec >>"$BOOTSTRAP_LOG" 2>&1

for name in INSTANCE_ID_PLACEHOLDER RUNNER_PARAMETER_TEMPLATE RUNNER_TARBALL_KEY RUNNER_MANIFEST_KEY \
  RUNNER_CACHE_BUCKET RUNNER_ARCH LOG_GROUP POOL DOCKER SUDO IMAGE_MARKER METRICS_NAMESPACE \
  START_FAILURE_METRIC POOL_DIMENSION START_FAILURE_TOKEN CW_AGENT_DEB_URL AWS_CLI_URL; do
  name="CIRUNNERS_$name"
  [ -n "${!name:-}" ] || fail "$name is not set"
done
CIRUNNERS_PARAMETER_WAIT_SECONDS="${CIRUNNERS_PARAMETER_WAIT_SECONDS:-120}"
WORK_DIR="$(mktemp -d)"

case "$CIRUNNERS_RUNNER_ARCH" in x64 | arm64) ;; *) fail "CIRUNNERS_RUNNER_ARCH must be x64 or arm64" ;; esac
case "$CIRUNNERS_PARAMETER_WAIT_SECONDS" in '' | *[!0-9]*) fail "CIRUNNERS_PARAMETER_WAIT_SECONDS must be a number" ;; esac

# ---- instance identity (IMDSv2) -------------------------------------------------------------------------
failure="instance metadata"
imds_token="$(curl -sSf --max-time 5 -X PUT "$IMDS/latest/api/token" -H "X-aws-ec2-metadata-token-ttl-seconds: 900")" ||
  fail "instance metadata (IMDSv2) did not answer"
imds() { curl -sSf --max-time 5 -H "X-aws-ec2-metadata-token: $imds_token" "$IMDS/latest/meta-data/$1"; }
INSTANCE_ID="$(imds instance-id)"
REGION="$(imds placement/region)"
{ [ -n "$INSTANCE_ID" ] && [ -n "$REGION" ]; } || fail "instance metadata has no instance id or region"
export AWS_DEFAULT_REGION="$REGION" AWS_REGION="$REGION"

# ---- which image: the family from os-release, baked or stock from the image marker ----------------------
failure="image detection"
os_id="$(. "$OS_RELEASE" && echo "${ID:-}")"
os_version="$(. "$OS_RELEASE" && echo "${VERSION_ID:-}")"
case "$os_id $os_version" in
  "amzn 2023") family=al2023 ;;
  "ubuntu 22.04" | "ubuntu 24.04") family=ubuntu ;;
  *) fail "unsupported image: $os_id $os_version (supported: Amazon Linux 2023, Ubuntu 22.04 and 24.04)" ;;
esac
baked=false
[ -f "$CIRUNNERS_IMAGE_MARKER" ] && baked=true
log "instance $INSTANCE_ID in $REGION, pool $CIRUNNERS_POOL, $family $os_version, runner $CIRUNNERS_RUNNER_ARCH, baked image: $baked"

# ---- packages (stock images only) ----------------------------------------------------------------------
# The runner's .NET dependencies are the ones actions/runner's bin/installdependencies.sh installs per family.
install_packages() {
  local packages=(git)
  if [ "$family" = al2023 ]; then
    packages+=(libicu lttng-ust openssl-libs krb5-libs zlib amazon-cloudwatch-agent)
    [ "$CIRUNNERS_DOCKER" = true ] && packages+=(docker)
    command -v aws >/dev/null 2>&1 || packages+=(awscli-2)
    failure="dnf install"
    dnf install -y -q "${packages[@]}"
  else
    packages+=(libkrb5-3 zlib1g unzip ca-certificates)
    if [ "$os_version" = 22.04 ]; then packages+=(libicu70 liblttng-ust1 libssl3); else packages+=(libicu74 liblttng-ust1t64 libssl3t64); fi
    [ "$CIRUNNERS_DOCKER" = true ] && packages+=(docker.io)
    export DEBIAN_FRONTEND=noninteractive
    # unattended-upgrades holds the dpkg lock for a while after boot: wait for it rather than fail.
    failure="apt-get install"
    apt-get -q -o DPkg::Lock::Timeout=300 update
    apt-get -y -q -o DPkg::Lock::Timeout=300 install --no-install-recommends "${packages[@]}"
    failure="CloudWatch agent download"
    curl -sSfL --retry 3 -o "$WORK_DIR/cwagent.deb" "$CIRUNNERS_CW_AGENT_DEB_URL"
    failure="CloudWatch agent install"
    dpkg -i -E "$WORK_DIR/cwagent.deb"
  fi
  if ! command -v aws >/dev/null 2>&1; then
    # Recent Ubuntu images have no AWS CLI: AWS's own installer, as the AWS CLI User Guide documents it.
    failure="AWS CLI install"
    curl -sSfL --retry 3 -o "$WORK_DIR/awscli.zip" "$CIRUNNERS_AWS_CLI_URL"
    unzip -q "$WORK_DIR/awscli.zip" -d "$WORK_DIR"
    "$WORK_DIR/aws/install"
  fi
  log "installed ${packages[*]}"
}
if [ "$baked" = false ]; then install_packages; fi

# ---- logs to CloudWatch (best effort: a job should not fail because log shipping did) ------------------
start_log_shipping() {
  command -v amazon-cloudwatch-agent-ctl >/dev/null 2>&1 || return 1
  mkdir -p "$(dirname "$CW_AGENT_CONFIG")"
  cat >"$CW_AGENT_CONFIG" <<JSON
{
  "agent": { "run_as_user": "root", "logfile": "" },
  "logs": {
    "logs_collected": {
      "files": {
        "collect_list": [
          { "file_path": "$BOOTSTRAP_LOG", "log_group_name": "$CIRUNNERS_LOG_GROUP", "log_stream_name": "$INSTANCE_ID", "timezone": "UTC" },
          { "file_path": "$RUNNER_DIR/_diag/*.log", "log_group_name": "$CIRUNNERS_LOG_GROUP", "log_stream_name": "$INSTANCE_ID/runner-diag", "timezone": "UTC" }
        ]
      }
    }
  }
}
JSON
  amazon-cloudwatch-agent-ctl -a fetch-config -m ec2 -s -c "file:$CW_AGENT_CONFIG" >/dev/null
}
if start_log_shipping; then
  log_agent_started=true
  log "shipping logs to $CIRUNNERS_LOG_GROUP"
else
  log "WARNING: could not start the CloudWatch agent; logs stay on the instance"
fi

# ---- JIT config: wait for it, read it, delete it ---------------------------------------------------------
failure="JIT config"
PARAMETER="${CIRUNNERS_RUNNER_PARAMETER_TEMPLATE//"$CIRUNNERS_INSTANCE_ID_PLACEHOLDER"/$INSTANCE_ID}"
deadline=$((SECONDS + CIRUNNERS_PARAMETER_WAIT_SECONDS))
JIT_CONFIG=""
while :; do
  if JIT_CONFIG="$(aws ssm get-parameter --name "$PARAMETER" --with-decryption --query Parameter.Value --output text 2>/dev/null)" && [ -n "$JIT_CONFIG" ]; then
    break
  fi
  [ "$SECONDS" -lt "$deadline" ] || fail "parameter $PARAMETER did not appear within ${CIRUNNERS_PARAMETER_WAIT_SECONDS}s"
  sleep "$POLL_SECONDS"
done
# Single use: delete it now. A failed delete is logged, not fatal (the config is useless once the runner used it).
aws ssm delete-parameter --name "$PARAMETER" >/dev/null || log "WARNING: could not delete $PARAMETER"
log "read and deleted $PARAMETER"

# ---- runner binaries from the S3 cache, checksum verified (a baked image has them) -------------------
if [ "$baked" = false ]; then
  failure="runner download"
  aws s3 cp --only-show-errors "s3://$CIRUNNERS_RUNNER_CACHE_BUCKET/$CIRUNNERS_RUNNER_MANIFEST_KEY" "$WORK_DIR/manifest.json"
  aws s3 cp --only-show-errors "s3://$CIRUNNERS_RUNNER_CACHE_BUCKET/$CIRUNNERS_RUNNER_TARBALL_KEY" "$WORK_DIR/actions-runner.tar.gz"
  manifest="$(tr -d '\n' <"$WORK_DIR/manifest.json")"
  expected_sha="$(sed -n 's/.*"sha256"[[:space:]]*:[[:space:]]*"\([0-9a-fA-F]\{64\}\)".*/\1/p' <<<"$manifest")"
  runner_version="$(sed -n 's/.*"version"[[:space:]]*:[[:space:]]*"\([^"]*\)".*/\1/p' <<<"$manifest")"
  [ -n "$expected_sha" ] || fail "manifest $CIRUNNERS_RUNNER_MANIFEST_KEY has no sha256"
  failure="runner checksum"
  echo "$expected_sha  $WORK_DIR/actions-runner.tar.gz" | sha256sum --check --status
  log "runner ${runner_version:-unknown version} downloaded, sha256 verified"
fi

# ---- unprivileged runner user: docker and sudo as the pool says ------------------------------------------
failure="runner user"
id "$RUNNER_USER" >/dev/null 2>&1 || useradd --create-home --home-dir "$RUNNER_HOME" --shell /bin/bash "$RUNNER_USER"
if [ "$CIRUNNERS_DOCKER" = true ]; then
  failure="docker"
  getent group docker >/dev/null 2>&1 || fail "docker is on for this pool but the image has no docker group"
  systemctl start docker
  usermod -aG docker "$RUNNER_USER"
fi
if [ "$CIRUNNERS_SUDO" = true ]; then
  failure="sudo"
  printf '%s ALL=(ALL) NOPASSWD:ALL\n' "$RUNNER_USER" >"$SUDOERS_FILE.tmp"
  chmod 0440 "$SUDOERS_FILE.tmp"
  visudo -cqf "$SUDOERS_FILE.tmp"
  mv "$SUDOERS_FILE.tmp" "$SUDOERS_FILE"
else
  rm -f "$SUDOERS_FILE"
fi
if [ "$baked" = false ]; then
  mkdir -p "$RUNNER_DIR"
  tar -xzf "$WORK_DIR/actions-runner.tar.gz" -C "$RUNNER_DIR"
  chown -R "$RUNNER_USER:$RUNNER_USER" "$RUNNER_HOME"
fi

# Other users must not read the JIT config from /proc/<pid>/cmdline while the runner starts.
mount -o remount,rw,hidepid=2 /proc || log "WARNING: could not hide other users' processes (/proc hidepid=2)"

# The config travels in a 0600 file owned by the runner user; the runner's shell reads and removes it.
JIT_FILE="$WORK_DIR/jitconfig"
(umask 077 && printf '%s' "$JIT_CONFIG" >"$JIT_FILE")
unset JIT_CONFIG
chown "$RUNNER_USER" "$WORK_DIR" "$JIT_FILE"

failure="runner start"
log "starting the runner as $RUNNER_USER"
runner_status=0
runuser -u "$RUNNER_USER" -- env -i HOME="$RUNNER_HOME" PATH=/usr/local/bin:/usr/bin:/bin JIT_FILE="$JIT_FILE" RUNNER_DIR="$RUNNER_DIR" \
  bash -c 'jit="$(cat "$JIT_FILE")" && rm -f "$JIT_FILE" && cd "$RUNNER_DIR" && exec ./run.sh --jitconfig "$jit"' || runner_status=$?
log "runner exited with status $runner_status"
# The runner's worker writes _diag/Worker_*.log for the job it runs: none means it never took a job
# (e.g. "Couldn't find a valid ICU package", a rejected JIT config).
compgen -G "$RUNNER_DIR/_diag/Worker_*.log" >/dev/null || fail "runner exited with status $runner_status before taking a job"
exit 0
