/**
 * The mocha hooks both launcher handler suites share (handlers/launcher-*.test.ts): moto and the GitHub stand-in
 * started once with the launcher's environment (org scope, runner group 3), and before each test a fresh launcher
 * world (support/launcher-world.ts), ledger table and handler, with its EC2 calls counted from zero.
 */
import type { EC2Client } from "@aws-sdk/client-ec2";
import { SSMClient } from "@aws-sdk/client-ssm";
import { ENV } from "../../../contract/names.js";
import type { Ledger } from "../../../runtime/adapters/ledger.js";
import type { GitHubApi } from "../../../testkit/github/server.js";
import { type MotoServer, startMoto } from "../../../testkit/moto.js";
import { resetAppEnvironment, startAppEnvironment } from "../github/fixture.js";
import { buildWorld, countingEc2, launcherHandler, PREFIX, STACK, type World } from "./launcher-world.js";
import { createLedgerTable, dynamoClient } from "./ledger-table.js";

/** What a launcher test works with; the hooks replace every field before each test. */
export interface LauncherSuite {
  moto: MotoServer;
  github: GitHubApi;
  /** EC2 calls by command name, counted since the world was built. */
  counts: Map<string, number>;
  ec2: EC2Client;
  ssm: SSMClient;
  world: World;
  ledger: Ledger;
  handler: ReturnType<typeof launcherHandler>;
}

/** Registers the hooks in the calling describe block and returns the state they fill. */
export function useLauncherSuite(): LauncherSuite {
  const suite = {} as LauncherSuite;
  before(async () => {
    suite.moto = await startMoto();
    suite.github = await startAppEnvironment({ "octo-org": 7 });
    process.env[ENV.stack] = STACK;
    process.env[ENV.runnerParameterPrefix] = PREFIX;
    process.env[ENV.runnerScope] = "org";
    process.env[ENV.githubOwner] = "octo-org";
    process.env[ENV.runnerGroupId] = "3";
    process.env[ENV.ledgerTable] = "jobs";
  });
  after(async () => {
    await suite.github?.stop();
    await suite.moto?.stop();
  });
  beforeEach(async () => {
    await resetAppEnvironment(suite.moto, suite.github);
    suite.counts = new Map();
    suite.ec2 = countingEc2(suite.counts);
    suite.ssm = new SSMClient({});
    suite.world = await buildWorld(suite.ec2);
    suite.ledger = await createLedgerTable(dynamoClient());
    suite.counts.clear();
    suite.handler = launcherHandler(suite.ec2, suite.ssm, suite.github.url, suite.ledger);
  });
  return suite;
}
