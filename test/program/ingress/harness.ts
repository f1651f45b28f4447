/**
 * Shared set-up of the WebhookIngress tests: two pools, the ledger as EphemeralRunners hands it over, GitHub
 * settings, and a mocha hook that installs the mocks once per file (answering github.getRepository, which the
 * shared mocks do not) and builds the component.
 */
import { strict as assert } from "node:assert";
import type { GitHubConfig, RunnersConfig } from "../../../program/config";
import { outputValue } from "../../../testkit/pulumi-mocks";
import { type Children, childrenOf, useMocks } from "../support";

export const REGION = "eu-west-1";
export const ACCOUNT = "123456789012";
/** The ledger as EphemeralRunners hands it over: a table name and the webhook's statements on it. */
export const LEDGER_TABLE = "runners-ledger-test";
export const LEDGER_STATEMENT = {
  Sid: "JobLedgerItems",
  Effect: "Allow" as const,
  Action: ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"],
  Resource: `arn:aws:dynamodb:${REGION}:${ACCOUNT}:table/${LEDGER_TABLE}`,
};
export const ledger = { tableName: LEDGER_TABLE, statements: [LEDGER_STATEMENT] };

export const runners: RunnersConfig = {
  pools: [
    {
      name: "linux-x64",
      labels: ["self-hosted", "linux", "x64"],
      instanceTypes: ["m7i.large"],
      architecture: "x64",
      diskSizeGiB: 40,
      maxRunners: 10,
      spot: true,
      image: "stock",
      docker: true,
      sudo: false,
    },
    {
      name: "linux-arm64",
      labels: ["self-hosted", "linux", "arm64"],
      instanceTypes: ["m7g.large"],
      architecture: "arm64",
      diskSizeGiB: 40,
      maxRunners: 5,
      spot: false,
      image: "stock",
      docker: true,
      sudo: false,
    },
  ],
  launcher: { batchSize: 10, maxConcurrency: 5, maxReceiveCount: 4, timeoutSeconds: 45 },
  bootGraceMinutes: 10,
  maxJobHours: 6,
  runnerVersion: "latest",
  reaperSchedule: "rate(5 minutes)",
};

export function githubConfig(overrides: Partial<GitHubConfig> = {}): GitHubConfig {
  return {
    owner: "acme-platform",
    scope: "org",
    repositories: [],
    appId: 1048576,
    appPrivateKeyParameter: "/cirunners/test/github-app/private-key",
    runnerGroup: "ephemeral-test",
    apiUrl: "https://api.github.com",
    ...overrides,
  };
}

/** Pulumi's wire form of a secret value. */
const SECRET_SIG = "4dabf18193072939515e22adb298388d";
export function secretValue(input: any): unknown {
  assert.ok(
    input && typeof input === "object" && SECRET_SIG in input,
    `expected a secret value, found ${JSON.stringify(input)}`,
  );
  return input.value;
}

export function useIngress() {
  /** The repositories github.getRepository was asked for. */
  const repositoryLookups: string[] = [];
  const mocked = useMocks({ region: REGION, stack: "test" }, async () => {
    const module = await import("../../../program/ephemeral-runners/ingress");
    // The shared mocks do not answer github.getRepository (used for runner groups restricted to repositories).
    const call = mocked.mocks.call.bind(mocked.mocks);
    mocked.mocks.call = (args) => {
      if (args.token !== "github:index/getRepository:getRepository") return call(args);
      repositoryLookups.push(args.inputs.fullName);
      const name = String(args.inputs.fullName).split("/")[1];
      return { id: name, fullName: args.inputs.fullName, name, repoId: 1000 + name.length, nodeId: `R_${name}` };
    };
    return module;
  });

  async function build(name: string, github: GitHubConfig, extra: { alarmTopicArn?: string } = {}) {
    const component = new mocked.program.WebhookIngress(name, {
      stack: "test",
      github,
      runners,
      ledger,
      logRetentionDays: 14,
      tags: { project: "cirunners" },
      ...extra,
    });
    const [webhookUrl, runnerGroupId] = await Promise.all([
      outputValue<string>(component.webhookUrl),
      component.runnerGroupId ? outputValue<number>(component.runnerGroupId) : Promise.resolve(undefined),
    ]);
    const children: Children = await childrenOf(mocked.recorded, component);
    return { component, webhookUrl, runnerGroupId, ...children };
  }

  return Object.assign(mocked, { build, repositoryLookups });
}

export type Built = Awaited<ReturnType<ReturnType<typeof useIngress>["build"]>>;

/** The org-scope ingress as most tests see it: with an alarm topic. */
export function buildOrgScope(h: ReturnType<typeof useIngress>): Promise<Built> {
  return h.build("ingress", githubConfig(), { alarmTopicArn: `arn:aws:sns:${REGION}:${ACCOUNT}:alerts` });
}

/** The job queue and its dead-letter queue. */
export function queuesOf(built: Built) {
  const all = built.byType("aws:sqs/queue:Queue");
  assert.equal(all.length, 2);
  const jobs = all.find((q) => !q.name.endsWith("dlq"));
  const dlq = all.find((q) => q.name.endsWith("dlq"));
  assert.ok(jobs && dlq);
  return { jobs, dlq };
}
