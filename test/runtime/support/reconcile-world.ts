/**
 * The reconciler's world in moto (eu-west-1: the DynamoDB ledger, the SQS FIFO job queue, EC2) and the GitHub
 * stand-in, shared by the reconcileJobs suites (services/reconcile-jobs-*.test.ts): one organization, one pool, job
 * records, tagged runner instances, and the job messages the reconciler sent to the launcher.
 */
import { strict as assert } from "node:assert";
import { EC2Client } from "@aws-sdk/client-ec2";
import { ReceiveMessageCommand, SQSClient } from "@aws-sdk/client-sqs";
import { decodeJobMessage, type JobMessage } from "../../../contract/job.js";
import type { NewJobRecord } from "../../../contract/ledger.js";
import { TAG } from "../../../contract/names.js";
import type { Ledger } from "../../../runtime/adapters/ledger.js";
import {
  type ReconcileReport,
  type ReconcileSettings,
  reconcileJobs,
} from "../../../runtime/services/reconcile-jobs.js";
import type { GitHubApi } from "../../../testkit/github/server.js";
import { type MotoServer, startMoto } from "../../../testkit/moto.js";
import { resetAppEnvironment, startAppEnvironment, testGitHubApp } from "../github/fixture.js";
import { createJobQueue } from "./job-pipeline.js";
import { createLedgerTable, dynamoClient } from "./ledger-table.js";
import { runTaggedInstance } from "./tagged-instance.js";

export const ORG = "acme";
export const POOL = "linux-x64";
export const minutes = (m: number) => m * 60_000;
const silent = { info() {}, warn() {}, error() {} };

/** A ledger record of job `jobId` of the organization's app repository, queued now for the pool. */
export const job = (jobId: number, overrides: Partial<NewJobRecord> = {}): NewJobRecord => ({
  jobId,
  runId: jobId * 10,
  runAttempt: 1,
  repository: `${ORG}/app`,
  owner: ORG,
  labels: ["self-hosted", "linux"],
  pool: POOL,
  state: "queued",
  queuedAt: new Date().toISOString(),
  ...overrides,
});

/** Starts an instance tagged as the stack's runner `runnerName` of the pool, and returns its id. */
export async function launch(runnerName: string): Promise<string> {
  const tags = { [TAG.stack]: "dev", [TAG.pool]: POOL, [TAG.runnerName]: runnerName, [TAG.repository]: `${ORG}/app` };
  return runTaggedInstance(tags);
}

/** What a reconcileJobs test works with; the hooks replace github, ledger and queueUrl (before each test). */
export interface ReconcileWorld {
  github: GitHubApi;
  ledger: Ledger;
  queueUrl: string;
  /** The reconciler's settings for the one pool, with room for `maxRunners` runners. */
  settings(maxRunners?: number): ReconcileSettings;
  /** One reconciler run at `at`. */
  run(settings: ReconcileSettings, at?: Date): Promise<ReconcileReport>;
  /** The job messages waiting in the job queue (received, not deleted). */
  queuedMessages(): Promise<JobMessage[]>;
}

/** Registers the hooks in the calling describe block and returns the world they fill. */
export function useReconcileWorld(): ReconcileWorld {
  let moto: MotoServer;
  const world: ReconcileWorld = {
    github: undefined as unknown as GitHubApi,
    ledger: undefined as unknown as Ledger,
    queueUrl: "",
    settings: (maxRunners = 2) => ({
      stack: "dev",
      pools: [
        {
          name: POOL,
          labels: ["self-hosted", "linux"],
          instanceTypes: ["m7i.large"],
          architecture: "x64",
          maxRunners,
          spot: false,
        },
      ],
      scope: "org",
      owner: ORG,
      queueUrl: world.queueUrl,
      bootGraceMinutes: 10,
      pageSize: 25,
    }),
    run: (s, at = new Date()) =>
      reconcileJobs(s, {
        ledger: world.ledger,
        ec2: new EC2Client({}),
        sqs: new SQSClient({}),
        github: testGitHubApp(world.github.url),
        now: () => at,
        log: silent,
      }),
    async queuedMessages() {
      const received = await new SQSClient({}).send(
        new ReceiveMessageCommand({ QueueUrl: world.queueUrl, MaxNumberOfMessages: 10 }),
      );
      return (received.Messages ?? []).map((m) => {
        const decoded = decodeJobMessage(m.Body ?? "");
        assert.ok(decoded.ok);
        return decoded.value;
      });
    },
  };
  before(async () => {
    moto = await startMoto({ region: "eu-west-1" });
    world.github = await startAppEnvironment({ [ORG]: 77 });
  });
  after(async () => {
    await world.github?.stop();
    await moto?.stop();
  });
  beforeEach(async () => {
    await resetAppEnvironment(moto, world.github);
    world.ledger = await createLedgerTable(dynamoClient());
    world.queueUrl = await createJobQueue(new SQSClient({}));
  });
  return world;
}
