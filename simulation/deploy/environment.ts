/**
 * Each function's environment: its recorded `environment.variables`, with only the values rewritten that
 * necessarily differ in moto (ENVIRONMENT_REWRITES, each with its reason).
 */
import { ENV } from "../../contract/names";
import { type FunctionRole, functionResource, recordedEnvironment, type StackSnapshot } from "../stack";
import type { DeployedStack } from "./index";
import { queueNameFromUrl } from "./recorded";

export interface RewriteContext {
  deployed: DeployedStack;
  githubApiUrl: string;
  runnerGroupId: number;
  bootGraceMinutes: number;
  /** The stand-in's organization webhook id. */
  hookId: number;
}

/**
 * The only environment values the simulation changes, and why. Every other recorded variable is passed as is.
 */
export const ENVIRONMENT_REWRITES: Array<{
  variable: string;
  why: string;
  rewrite(value: string, context: RewriteContext): string;
}> = [
  {
    variable: ENV.jobQueueUrl,
    why: "moto's queue URL (the recorded one is https://sqs.<region>.amazonaws.com/...; the SDK would send there)",
    rewrite: (value, { deployed }) => {
      const queue = [deployed.jobQueue, deployed.deadLetterQueue].find((q) => q.name === queueNameFromUrl(value));
      if (!queue) throw new Error(`${ENV.jobQueueUrl}=${value} names no queue of the stack`);
      return queue.url;
    },
  },
  {
    variable: ENV.webhookSecretArn,
    why: "the ARN moto gave the webhook secret (Secrets Manager appends 6 random characters to the name; the recorded ARN has the mocks')",
    rewrite: (_value, { deployed }) => deployed.webhookSecretArn,
  },
  {
    variable: ENV.pools,
    why: "launchTemplateId of each pool → the id moto gave the pool's launch template (found by its cirunners:pool tag)",
    rewrite: (value, { deployed }) =>
      JSON.stringify(
        (JSON.parse(value) as Array<Record<string, unknown>>).map((pool) =>
          pool.launchTemplateId === undefined
            ? pool
            : {
                ...pool,
                launchTemplateId: deployed.launchTemplates.get(String(pool.name))?.id ?? pool.launchTemplateId,
              },
        ),
      ),
  },
  {
    variable: ENV.subnetIds,
    why: "the private subnets created in moto, in the same order (the recorded ids are the mocks' or the config's)",
    rewrite: (value, { deployed }) =>
      JSON.stringify((JSON.parse(value) as string[]).map((id) => deployed.subnets.get(id) ?? id)),
  },
  {
    variable: ENV.runnerCacheBucket,
    why: "unchanged: the bucket is created in moto under its recorded name",
    rewrite: (value, { deployed }) => deployed.bucket ?? value,
  },
  {
    variable: ENV.githubApiUrl,
    why: "the local GitHub API stand-in instead of https://api.github.com",
    rewrite: (_value, { githubApiUrl }) => githubApiUrl,
  },
  {
    variable: ENV.runnerGroupId,
    why: "the stand-in's runner group id (the recorded one is the mock id of github.ActionsRunnerGroup)",
    rewrite: (_value, { runnerGroupId }) => String(runnerGroupId),
  },
  {
    variable: ENV.webhookHookIds,
    why: "each webhook's id → the stand-in's hook id (the recorded ids are the mocks' of github.OrganizationWebhook)",
    rewrite: (value, { hookId }) =>
      JSON.stringify(Object.fromEntries(Object.keys(JSON.parse(value) as object).map((key) => [key, hookId]))),
  },
  {
    variable: ENV.bootGraceMinutes,
    why: "a short boot grace so the reaper scenario runs in seconds (the stack's is minutes)",
    rewrite: (_value, { bootGraceMinutes }) => String(bootGraceMinutes),
  },
];

/** The function's environment: recorded variables, rewritten per ENVIRONMENT_REWRITES. */
export function functionEnvironment(
  snapshot: StackSnapshot,
  role: FunctionRole,
  context: RewriteContext,
): { environment: Record<string, string>; rewritten: Array<{ variable: string; from: string; to: string }> } {
  const environment = recordedEnvironment(functionResource(snapshot, role));
  const rewritten: Array<{ variable: string; from: string; to: string }> = [];
  for (const rule of ENVIRONMENT_REWRITES) {
    const value = environment[rule.variable];
    if (value === undefined) continue;
    const next = rule.rewrite(value, context);
    if (next !== value) rewritten.push({ variable: rule.variable, from: value, to: next });
    environment[rule.variable] = next;
  }
  for (const [name, value] of Object.entries(environment)) {
    if (/amazonaws\.com/.test(value))
      throw new Error(`function ${role}: ${name} still points at AWS after rewriting (${value}); add a rewrite rule`);
  }
  return { environment, rewritten };
}
