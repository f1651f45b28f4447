// What runs: secrets in plain-text configuration, IMDS reach from containers, privileged CodeBuild builds.
import type { ResourceValidationPolicy } from "@pulumi/policy";
import { wildcardMatch } from "../lib/glob";
import { defineResourcePolicy } from "../lib/kit";
import { decodeUserData, findSecret } from "../lib/secrets";
import { T } from "../lib/types";
import { isRecord, isUnknown } from "../lib/unknown";

const CODEBUILD_PROJECT = "aws:codebuild/project:Project";

// Checkov CKV_AWS_45 (Lambda environment) and CKV_AWS_46 (EC2 user data); awsguard has none.
export const noPlaintextSecrets: ResourceValidationPolicy = defineResourcePolicy<Record<string, unknown>>({
  name: "aws-compute-no-plaintext-secrets",
  description:
    "Lambda environment variables and EC2 user data must not contain secrets (access keys, tokens, private keys).",
  enforcementLevel: "mandatory",
  severity: "high",
  remediationSteps:
    "Store the secret in SSM Parameter Store (SecureString) or Secrets Manager and pass its name or ARN; read it at run time " +
    "(anyone who can describe the function or instance can read environment variables and user data).",
  tags: ["secrets"],
  types: [T.lambdaFunction, T.instance, T.launchTemplate],
  check: ({ type, props, report }) => {
    if (type === T.lambdaFunction) {
      const variables = isRecord(props.environment) ? props.environment.variables : undefined;
      if (!isRecord(variables)) return;
      for (const [name, value] of Object.entries(variables)) {
        const found = typeof value === "string" && !isUnknown(value) ? findSecret(value) : undefined;
        if (found)
          report(
            `environment variable ${name} holds ${found}. Put it in SSM/Secrets Manager and pass the parameter name instead.`,
          );
      }
      return;
    }
    for (const field of ["userData", "userDataBase64"]) {
      const value = props[field];
      const found = typeof value === "string" && !isUnknown(value) ? findSecret(decodeUserData(value)) : undefined;
      if (found)
        report(
          `${field} holds ${found}: user data is readable by anyone who can describe the instance. Read the secret from SSM at boot instead.`,
        );
    }
  },
});

// Checkov CKV_AWS_341; AWS EC2 User Guide "Configure the instance metadata options": a hop limit of 1 keeps
// containers on the instance (one more network hop) away from the instance role's credentials.
export const imdsHopLimit: ResourceValidationPolicy = defineResourcePolicy<Record<string, unknown>>({
  name: "aws-ec2-instance-imds-hop-limit",
  description:
    "Launch templates and instances must keep the IMDS hop limit at 1 (metadataOptions.httpPutResponseHopLimit).",
  enforcementLevel: "mandatory",
  severity: "medium",
  remediationSteps:
    "Set metadataOptions.httpPutResponseHopLimit: 1. Job containers then cannot fetch the instance role's credentials.",
  tags: ["ec2", "imds"],
  types: [T.launchTemplate, T.instance],
  check: ({ props, report }) => {
    const options = props.metadataOptions;
    if (!isRecord(options) || options.httpEndpoint === "disabled") return;
    const limit = options.httpPutResponseHopLimit;
    if (typeof limit === "number" && limit > 1) {
      report(
        `metadataOptions.httpPutResponseHopLimit is ${limit}: containers on the instance can reach IMDS and the role's credentials. Set it to 1.`,
      );
    }
  },
});

// Checkov CKV_AWS_316. Advisory by default: CodeBuild-hosted runners that build container images need privileged
// mode (Docker daemon); list such projects in allowedProjects, or raise the level to mandatory.
export const codebuildPrivileged: ResourceValidationPolicy = defineResourcePolicy<
  Record<string, unknown>,
  { allowedProjects?: string[] }
>({
  name: "aws-codebuild-project-no-privileged-mode",
  description: "CodeBuild projects should not run builds in privileged mode (root on the build host's Docker daemon).",
  enforcementLevel: "advisory",
  severity: "medium",
  remediationSteps:
    "Set environment.privilegedMode: false. Projects that must build Docker images (docker build in the job) need it: list their " +
    "Pulumi names in allowedProjects, and keep those projects to trusted repositories.",
  config: {
    allowedProjects: {
      type: "array",
      items: { type: "string" },
      default: [],
      description: "Pulumi names (* and ? wildcards) of CodeBuild projects allowed to use privileged mode.",
    },
  },
  tags: ["codebuild", "runners"],
  types: [CODEBUILD_PROJECT],
  check: ({ name, props, config, report }) => {
    const environment = props.environment;
    if (!isRecord(environment) || environment.privilegedMode !== true) return;
    if ((config.allowedProjects ?? []).some((p) => wildcardMatch(p, name, false))) return;
    report(
      "environment.privilegedMode is true: a build can control the host's Docker daemon. Set it to false, or list this project in allowedProjects if it builds images.",
    );
  },
});

export const workloadPolicies: ResourceValidationPolicy[] = [noPlaintextSecrets, imdsHopLimit, codebuildPrivileged];
