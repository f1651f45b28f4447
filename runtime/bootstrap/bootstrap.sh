#!/bin/bash
# Runner bootstrap (EC2 user data). renderUserData() puts `export CIRUNNERS_...='...'` lines right below the
# shebang, with the JIT parameter's name and the cache keys already computed by the contract (contract/names.ts):
# this script never spells them. The instance runs exactly one job, then powers off; the launch template's shutdown behaviour is
# "terminate", so powering off deletes the instance. ANY failure powers off at once (EXIT trap): a broken
# bootstrap never leaves a running instance behind, and the launcher's message retry / the reaper take over.
set -Eeuo pipefail

log() { printf '%s cirunners-bootstrap: %s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$*"; }
WORK_DIR=""
log_agent_started=false

# Installed first, before anything can fail: whatever happens below, the instance ends.
power_off() {
  local status=$?
  trap - EXIT ERR
  set +e
  [ -n "$WORK_DIR" ] && rm -rf "$WORK_DIR"
  if [ "$status" -eq 0 ]; then log "runner finished: powering off"; else log "bootstrap failed (exit $status): powering off"; fi
  if [ "$log_agent_started" = true ]; then
    # Stopping the agent flushes what it has buffered, so the last lines reach CloudWatch.
    timeout 30 amazon-cloudwatch-agent-ctl -a stop >/dev/null 2>&1
  fi
  sync
  poweroff || shutdown -h now
  exit "$status"
}
trap power_off EXIT
trap 'log "failed at line $LINENO: $BASH_COMMAND"' ERR

# Fixed paths on the instance; overridable only so that the script can be tested without root.
IMDS="${CIRUNNERS_IMDS_ENDPOINT:-http://169.254.169.254}"
BOOTSTRAP_LOG="${CIRUNNERS_BOOTSTRAP_LOG:-/var/log/cirunners-bootstrap.log}"
RUNNER_USER=runner
RUNNER_HOME="${CIRUNNERS_RUNNER_HOME:-/home/runner}"
RUNNER_DIR="$RUNNER_HOME/actions-runner"
CW_AGENT_CONFIG="${CIRUNNERS_CW_AGENT_CONFIG:-/opt/aws/amazon-cloudwatch-agent/etc/cirunners.json}"
POLL_SECONDS="${CIRUNNERS_PARAMETER_POLL_SECONDS:-2}"

exec >>"$BOOTSTRAP_LOG" 2>&1

: "${CIRUNNERS_INSTANCE_ID_PLACEHOLDER:?CIRUNNERS_INSTANCE_ID_PLACEHOLDER is not set}"
: "${CIRUNNERS_RUNNER_PARAMETER_TEMPLATE:?CIRUNNERS_RUNNER_PARAMETER_TEMPLATE is not set}"
: "${CIRUNNERS_RUNNER_TARBALL_KEY:?CIRUNNERS_RUNNER_TARBALL_KEY is not set}"
: "${CIRUNNERS_RUNNER_MANIFEST_KEY:?CIRUNNERS_RUNNER_MANIFEST_KEY is not set}"
: "${CIRUNNERS_RUNNER_CACHE_BUCKET:?CIRUNNERS_RUNNER_CACHE_BUCKET is not set}"
: "${CIRUNNERS_RUNNER_ARCH:?CIRUNNERS_RUNNER_ARCH is not set}"
: "${CIRUNNERS_LOG_GROUP:?CIRUNNERS_LOG_GROUP is not set}"
CIRUNNERS_PARAMETER_WAIT_SECONDS="${CIRUNNERS_PARAMETER_WAIT_SECONDS:-120}"
WORK_DIR="$(mktemp -d)"

case "$CIRUNNERS_RUNNER_ARCH" in
  x64 | arm64) ;;
  *) log "CIRUNNERS_RUNNER_ARCH must be x64 or arm64, got $CIRUNNERS_RUNNER_ARCH"; exit 1 ;;
esac
case "$CIRUNNERS_PARAMETER_WAIT_SECONDS" in
  '' | *[!0-9]*) log "CIRUNNERS_PARAMETER_WAIT_SECONDS must be a number of seconds"; exit 1 ;;
esac

# ---- instance identity (IMDSv2) -------------------------------------------------------------------------
imds_token="$(curl -sSf --max-time 5 -X PUT "$IMDS/latest/api/token" -H "X-aws-ec2-metadata-token-ttl-seconds: 900")"
imds() { curl -sSf --max-time 5 -H "X-aws-ec2-metadata-token: $imds_token" "$IMDS/latest/meta-data/$1"; }
INSTANCE_ID="$(imds instance-id)"
REGION="$(imds placement/region)"
[ -n "$INSTANCE_ID" ] && [ -n "$REGION" ]
export AWS_DEFAULT_REGION="$REGION" AWS_REGION="$REGION"
log "instance $INSTANCE_ID in $REGION, runner arch $CIRUNNERS_RUNNER_ARCH"

# ---- logs to CloudWatch (best effort: a job should not fail because log shipping did) ------------------
start_log_shipping() {
  if ! command -v amazon-cloudwatch-agent-ctl >/dev/null 2>&1; then
    dnf install -y -q amazon-cloudwatch-agent || return 1
  fi
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
PARAMETER="${CIRUNNERS_RUNNER_PARAMETER_TEMPLATE//"$CIRUNNERS_INSTANCE_ID_PLACEHOLDER"/$INSTANCE_ID}"
deadline=$((SECONDS + CIRUNNERS_PARAMETER_WAIT_SECONDS))
JIT_CONFIG=""
while :; do
  if JIT_CONFIG="$(aws ssm get-parameter --name "$PARAMETER" --with-decryption --query Parameter.Value --output text 2>/dev/null)" && [ -n "$JIT_CONFIG" ]; then
    break
  fi
  if [ "$SECONDS" -ge "$deadline" ]; then
    log "parameter $PARAMETER did not appear within ${CIRUNNERS_PARAMETER_WAIT_SECONDS}s"
    exit 1
  fi
  sleep "$POLL_SECONDS"
done
# Single use: delete it now. A failed delete is logged, not fatal (the config is useless once the runner used it).
aws ssm delete-parameter --name "$PARAMETER" >/dev/null || log "WARNING: could not delete $PARAMETER"
log "read and deleted $PARAMETER"

# ---- runner binaries from the S3 cache, checksum verified ----------------------------------------------
TARBALL_KEY="$CIRUNNERS_RUNNER_TARBALL_KEY"
MANIFEST_KEY="$CIRUNNERS_RUNNER_MANIFEST_KEY"
aws s3 cp --only-show-errors "s3://$CIRUNNERS_RUNNER_CACHE_BUCKET/$MANIFEST_KEY" "$WORK_DIR/manifest.json"
aws s3 cp --only-show-errors "s3://$CIRUNNERS_RUNNER_CACHE_BUCKET/$TARBALL_KEY" "$WORK_DIR/actions-runner.tar.gz"
expected_sha="$(tr -d '\n' <"$WORK_DIR/manifest.json" | sed -n 's/.*"sha256"[[:space:]]*:[[:space:]]*"\([0-9a-fA-F]\{64\}\)".*/\1/p')"
runner_version="$(tr -d '\n' <"$WORK_DIR/manifest.json" | sed -n 's/.*"version"[[:space:]]*:[[:space:]]*"\([^"]*\)".*/\1/p')"
if [ -z "$expected_sha" ]; then
  log "manifest $MANIFEST_KEY has no sha256"
  exit 1
fi
echo "$expected_sha  $WORK_DIR/actions-runner.tar.gz" | sha256sum --check --status
log "runner ${runner_version:-unknown version} downloaded, sha256 verified"

# ---- unprivileged runner user -------------------------------------------------------------------------
if ! id "$RUNNER_USER" >/dev/null 2>&1; then
  useradd --create-home --home-dir "$RUNNER_HOME" --shell /bin/bash "$RUNNER_USER"
fi
if getent group docker >/dev/null 2>&1; then
  usermod -aG docker "$RUNNER_USER"
fi
mkdir -p "$RUNNER_DIR"
tar -xzf "$WORK_DIR/actions-runner.tar.gz" -C "$RUNNER_DIR"
chown -R "$RUNNER_USER:$RUNNER_USER" "$RUNNER_HOME"

# Other users must not read the JIT config from /proc/<pid>/cmdline while the runner starts.
mount -o remount,rw,hidepid=2 /proc || log "WARNING: could not hide other users' processes (/proc hidepid=2)"

# The config travels in a 0600 file owned by the runner user; the runner's shell reads and removes it.
JIT_FILE="$WORK_DIR/jitconfig"
(umask 077 && printf '%s' "$JIT_CONFIG" >"$JIT_FILE")
unset JIT_CONFIG
chown "$RUNNER_USER" "$WORK_DIR" "$JIT_FILE"

log "starting the runner as $RUNNER_USER"
runner_status=0
runuser -u "$RUNNER_USER" -- env -i HOME="$RUNNER_HOME" PATH=/usr/local/bin:/usr/bin:/bin JIT_FILE="$JIT_FILE" RUNNER_DIR="$RUNNER_DIR" \
  bash -c 'jit="$(cat "$JIT_FILE")" && rm -f "$JIT_FILE" && cd "$RUNNER_DIR" && exec ./run.sh --jitconfig "$jit"' || runner_status=$?
log "runner exited with status $runner_status"
exit 0
