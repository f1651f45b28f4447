/**
 * What the runner image pipeline, the launch templates and the bootstrap agree on: where a baked AMI is
 * published, the marker file a baked image carries, and where the Amazon-built tools come from. The bootstrap
 * gets these rendered into its user data (program/ephemeral-runners/user-data.ts) and never spells them.
 */
import type { Architecture } from "../../contract/names";

/**
 * Written by the image pipeline's last component. Its presence tells the bootstrap that the runner, its
 * dependencies, git, docker and the CloudWatch agent are installed, so it skips straight to the runner.
 */
export const BAKED_IMAGE_MARKER = "/etc/cirunners/runner-image.json";

/** Where the baked runner image lives on the image: the runner user's home (the bootstrap's RUNNER_DIR). */
export const BAKED_RUNNER_DIR = "/home/runner/actions-runner";

/**
 * RunnerImages' name in program/index.ts. RunnerImages used to create the baked parameters itself, as its children
 * `<this>-<arch>`: the runner fleet, which creates them now, aliases those (program/ephemeral-runners/pool-images.ts).
 */
export const RUNNER_IMAGES_COMPONENT = "runner-images";

/** The architectures that get a pipeline: those of the pools with `image: baked`, once each, in pool order. */
export function bakedArchitectures(pools: readonly { image?: string; architecture: Architecture }[]): Architecture[] {
  return [...new Set(pools.filter((p) => p.image === "baked").map((p) => p.architecture))];
}

/** The SSM parameter (data type aws:ec2:image) the pipeline distributes the newest baked AMI id to. */
export function runnerImageParameterName(stack: string, architecture: Architecture): string {
  return `/cirunners/${stack}/runner-images/${architecture}`;
}

/**
 * The CloudWatch agent's .deb for Ubuntu (AWS CloudWatch User Guide, "Download and install the CloudWatch agent
 * using the command line": https://amazoncloudwatch-agent.s3.amazonaws.com/ubuntu/<amd64|arm64>/latest/...).
 */
export function cloudWatchAgentDebUrl(architecture: Architecture): string {
  return `https://amazoncloudwatch-agent.s3.amazonaws.com/ubuntu/${architecture === "arm64" ? "arm64" : "amd64"}/latest/amazon-cloudwatch-agent.deb`;
}

/** AWS CLI v2's installer (AWS CLI User Guide, "Installing or updating to the latest version of the AWS CLI"). */
export function awsCliUrl(architecture: Architecture): string {
  return `https://awscli.amazonaws.com/awscli-exe-linux-${architecture === "arm64" ? "aarch64" : "x86_64"}.zip`;
}

/**
 * Amazon Linux 2023 packages a runner needs. The .NET dependencies are the Fedora/RHEL branch of actions/runner's
 * bin/installdependencies.sh (lttng-ust, openssl-libs, krb5-libs, zlib, libicu); AL2023 ships without libicu.
 * git for actions/checkout; docker (AL2023's docker engine package); amazon-cloudwatch-agent from the AL2023
 * repository (AWS CloudWatch User Guide, "Installing the CloudWatch agent on Amazon Linux 2023").
 */
export const AL2023_RUNNER_PACKAGES = [
  "git",
  "libicu",
  "lttng-ust",
  "openssl-libs",
  "krb5-libs",
  "zlib",
  "amazon-cloudwatch-agent",
] as const;
export const AL2023_DOCKER_PACKAGE = "docker";
