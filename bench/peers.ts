/**
 * The benchmark's peer column: what the two best-known AWS runner projects do per job with their DEFAULTS, each
 * figure with the file and line it was read from at a pinned commit. Read from the repositories (not run): a
 * figure here is a count of calls or a configured delay, not a timing. Timings of a peer are measured, never
 * written here.
 *
 * terraform-aws-github-runner: GitHub → API Gateway → webhook Lambda → EventBridge (on by default) → dispatcher
 * rule → SQS (30 s delay by default) → scale-up Lambda, which groups a batch's messages by owner, mints one
 * installation token per group, one JIT config per runner and one CreateFleet per group.
 *
 * cdk-github-runners: GitHub → API Gateway → webhook Lambda (reads the secret from Secrets Manager on every
 * delivery) → one Step Functions execution per job → token-retriever Lambda (installation client, registration
 * token) → the provider's task (EC2: RunInstances, one instance per job) with retries over about 24 hours.
 */

export interface Source {
  repo: string;
  commit: string;
  path: string;
  line: number;
}

export interface PeerFact<T = number | boolean | string> {
  value: T;
  /** What the value is, in words, for the table. */
  means: string;
  source: Source;
}

const TF = {
  repo: "github-aws-runners/terraform-aws-github-runner",
  commit: "4475534a95e47b6152729950e11131c6ae6a044f",
};
const CDK = { repo: "CloudSnorkel/cdk-github-runners", commit: "bfe47a33c1476eea8351dd8566201e8d227524a0" };

const tf = (path: string, line: number): Source => ({ ...TF, path, line });
const cdk = (path: string, line: number): Source => ({ ...CDK, path, line });

export const TERRAFORM_AWS_GITHUB_RUNNER = {
  name: "terraform-aws-github-runner",
  ...TF,
  flow: "webhook Lambda → EventBridge → dispatcher → SQS (delayed) → scale-up Lambda → CreateFleet",
  queueDelaySeconds: {
    value: 30,
    means: "default `delay_webhook_event`: a queued job is invisible on the queue for 30 s",
    source: tf("variables.tf", 652),
  },
  queueDelayWiring: {
    value: "delay_seconds = var.delay_webhook_event",
    means: "the variable is the SQS queue's DelaySeconds",
    source: tf("main.tf", 71),
  },
  eventBridgeByDefault: {
    value: true,
    means: "`eventbridge.enable` defaults to true: the webhook puts events on EventBridge, a rule dispatches them",
    source: tf("variables.tf", 1157),
  },
  eventBridgePut: {
    value: "PutEvents",
    means: "the webhook's PutEvents call (the extra hop)",
    source: tf("lambdas/functions/webhook/src/eventbridge/index.ts", 9),
  },
  installationTokensPerInvocation: {
    value: "one per owner group",
    means: "scale-up groups a batch's messages by runner owner and mints one installation client per group",
    source: tf("lambdas/functions/control-plane/src/scale-runners/scale-up.ts", 163),
  },
  jitCallsPerRunner: {
    value: 1,
    means: "generate-jitconfig once per runner (a loop over runner ids)",
    source: tf("lambdas/functions/control-plane/src/scale-runners/github-runner.ts", 329),
  },
  createFleetPerGroup: {
    value: 1,
    means: "one CreateFleet (Type instant) per group, TotalTargetCapacity = the group's runner count",
    source: tf("lambdas/libs/compute-providers/aws/ec2/src/control-plane/runners.ts", 552),
  },
  /** GitHub calls per job in a group of n jobs: 1 JIT per job plus one token mint per group (amortised). */
  gitHubCallsPerJob: (jobsInGroup: number) => 1 + 1 / Math.max(1, jobsInGroup),
  webhookBuild: {
    value: "ncc build src/lambda.ts -o dist",
    means: "how its webhook is bundled (for a side-by-side size and cold start, build it with its own build)",
    source: tf("lambdas/functions/webhook/package.json", 13),
  },
} as const;

export const CDK_GITHUB_RUNNERS = {
  name: "cdk-github-runners",
  ...CDK,
  flow: "webhook Lambda → Step Functions execution per job → token retriever Lambda → provider (EC2 RunInstances)",
  queueDelaySeconds: {
    value: 0,
    means: "no queue: the webhook starts a Step Functions execution at once",
    source: cdk("src/webhook-handler.lambda.ts", 311),
  },
  secretReadPerDelivery: {
    value: 1,
    means: "Secrets Manager GetSecretValue on every delivery (no cache)",
    source: cdk("src/webhook-handler.lambda.ts", 201),
  },
  stepFunctionsExecutionsPerJob: {
    value: 1,
    means: "StartExecution per queued job",
    source: cdk("src/webhook-handler.lambda.ts", 311),
  },
  installationClientCheckPerJob: {
    value: 1,
    means: "a cached installation client is checked with GET /octocat before use (else a fresh token is minted)",
    source: cdk("src/lambda-github.ts", 67),
  },
  registrationTokenPerJob: {
    value: 1,
    means: "registration token per job (the state machine fetches one again on every retry)",
    source: cdk("src/token-retriever.lambda.ts", 49),
  },
  launchCallsPerJob: {
    value: 1,
    means: "EC2 provider: RunInstances with MaxCount 1 per job, from the state machine",
    source: cdk("src/providers/ec2.ts", 563),
  },
  gitHubCallsPerJob: {
    value: 2,
    means: "octocat check (or token mint) + registration token",
    source: cdk("src/token-retriever.lambda.ts", 49),
  },
} as const;

export const PEERS = [TERRAFORM_AWS_GITHUB_RUNNER, CDK_GITHUB_RUNNERS] as const;

/** `owner/repo@abcdef1 path:line`, for tables. */
export function cite(source: Source): string {
  return `${source.repo}@${source.commit.slice(0, 7)} ${source.path}:${source.line}`;
}

/** A link to the line on GitHub at the pinned commit. */
export function citeUrl(source: Source): string {
  return `https://github.com/${source.repo}/blob/${source.commit}/${source.path}#L${source.line}`;
}
