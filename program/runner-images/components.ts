/**
 * The Image Builder components (AWSTOE YAML documents, schemaVersion 1.0) that turn Amazon Linux 2023 into a
 * baked runner image: the same packages the bootstrap installs on a stock image, and the runner from this stack's
 * cache, checksum-verified. Pure: the component resource takes the rendered text.
 */
import { createHash } from "node:crypto";
import { type Architecture, runnerCacheKey, runnerCacheManifestKey } from "../../contract/names";
import { AL2023_DOCKER_PACKAGE, AL2023_RUNNER_PACKAGES, BAKED_IMAGE_MARKER, BAKED_RUNNER_DIR } from "./names";

/** A component's semantic version from its content: a changed document is a new version, never a conflict. */
export function componentVersion(data: string): string {
  return `1.0.${parseInt(createHash("sha256").update(data).digest("hex").slice(0, 7), 16)}`;
}

function document(name: string, description: string, build: string[], validate: string[]): string {
  const commands = (lines: string[]) => lines.map((l) => `            - ${JSON.stringify(l)}`).join("\n");
  return [
    `name: ${name}`,
    `description: ${JSON.stringify(description)}`,
    "schemaVersion: 1.0",
    "phases:",
    "  - name: build",
    "    steps:",
    "      - name: Build",
    "        action: ExecuteBash",
    "        inputs:",
    "          commands:",
    commands(build),
    "  - name: validate",
    "    steps:",
    "      - name: Validate",
    "        action: ExecuteBash",
    "        inputs:",
    "          commands:",
    commands(validate),
    "",
  ].join("\n");
}

/**
 * The runner's dependencies, git, docker (installed, not enabled: the bootstrap starts it for pools that want it)
 * and the CloudWatch agent.
 */
export function dependenciesDocument(): string {
  const packages = [...AL2023_RUNNER_PACKAGES, AL2023_DOCKER_PACKAGE, "awscli-2"];
  return document(
    "cirunners-runner-dependencies",
    "Runner dependencies (libicu & co.), git, docker and the CloudWatch agent on Amazon Linux 2023",
    ["set -euo pipefail", `dnf install -y ${packages.join(" ")}`, "dnf clean all"],
    [
      "set -euo pipefail",
      `rpm -q ${packages.join(" ")}`,
      "git --version",
      "getent group docker",
      "test -x /opt/aws/amazon-cloudwatch-agent/bin/amazon-cloudwatch-agent-ctl",
    ],
  );
}

/**
 * The runner from the cache (the bootstrap's source too), verified against the manifest's sha256, unpacked into
 * the runner user's home; then the marker that tells the bootstrap the image is baked.
 */
export function runnerDocument(architecture: Architecture, cacheBucket: string): string {
  const manifest = `s3://${cacheBucket}/${runnerCacheManifestKey(architecture)}`;
  const tarball = `s3://${cacheBucket}/${runnerCacheKey(architecture)}`;
  return document(
    `cirunners-actions-runner-${architecture}`,
    `actions/runner (linux-${architecture}) from the stack's runner cache, and the baked-image marker`,
    [
      "set -euo pipefail",
      "work=$(mktemp -d)",
      `aws s3 cp --only-show-errors ${manifest} "$work/manifest.json"`,
      `aws s3 cp --only-show-errors ${tarball} "$work/runner.tar.gz"`,
      `sha=$(tr -d '\\n' < "$work/manifest.json" | sed -n 's/.*"sha256"[[:space:]]*:[[:space:]]*"\\([0-9a-fA-F]\\{64\\}\\)".*/\\1/p')`,
      `version=$(tr -d '\\n' < "$work/manifest.json" | sed -n 's/.*"version"[[:space:]]*:[[:space:]]*"\\([^"]*\\)".*/\\1/p')`,
      'test -n "$sha"',
      'echo "$sha  $work/runner.tar.gz" | sha256sum --check --status',
      `id runner || useradd --create-home --home-dir ${BAKED_RUNNER_DIR.replace(/\/actions-runner$/, "")} --shell /bin/bash runner`,
      `mkdir -p ${BAKED_RUNNER_DIR}`,
      `tar -xzf "$work/runner.tar.gz" -C ${BAKED_RUNNER_DIR}`,
      `chown -R runner:runner ${BAKED_RUNNER_DIR}`,
      `mkdir -p ${BAKED_IMAGE_MARKER.replace(/\/[^/]+$/, "")}`,
      `printf '{"runnerVersion":"%s","builtAt":"%s"}\\n' "$version" "$(date -u +%Y-%m-%dT%H:%M:%SZ)" > ${BAKED_IMAGE_MARKER}`,
      'rm -rf "$work"',
    ],
    [
      "set -euo pipefail",
      `test -s ${BAKED_IMAGE_MARKER}`,
      // The .NET runner starts only when its dependencies (libicu above all) are there.
      `runuser -u runner -- ${BAKED_RUNNER_DIR}/bin/Runner.Listener --version`,
    ],
  );
}
