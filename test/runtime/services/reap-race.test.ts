/**
 * The reaper against GitHub's page-based runner list while ephemeral runners disappear (issue 12, item 5): 121
 * runners, one of them removed between the first and the second page, shifts the runner that was first on page two
 * onto page one after page one was read. A proxy in front of the GitHub stand-in removes the runner when the second
 * page is asked for, as a finishing ephemeral runner would.
 */
import { strict as assert } from "node:assert";
import { createServer, request as httpRequest, type Server } from "node:http";
import { DescribeInstancesCommand, EC2Client } from "@aws-sdk/client-ec2";
import { SSMClient } from "@aws-sdk/client-ssm";
import { TAG } from "../../../contract/names.js";
import { reap } from "../../../runtime/services/reap.js";
import { type GitHubApi, ROUTES } from "../../../testkit/github/server.js";
import { type MotoServer, startMoto } from "../../../testkit/moto.js";
import { resetAppEnvironment, startAppEnvironment, testGitHubApp } from "../github/fixture.js";
import { createLedgerTable, dynamoClient } from "../support/ledger-table.js";
import { runTaggedInstance } from "../support/tagged-instance.js";

const ORG = "acme";
const silent = { info() {}, warn() {}, error() {} };

/** Forwards to `target`; calls `beforeForward` with each request's URL first; `link` headers point back here. */
async function startProxy(target: string, beforeForward: (url: URL) => void): Promise<{ url: string; server: Server }> {
  const upstream = new URL(target);
  let proxyUrl = "";
  const server = createServer((req, res) => {
    beforeForward(new URL(req.url ?? "/", target));
    const forwarded = httpRequest(
      { host: upstream.hostname, port: upstream.port, path: req.url, method: req.method, headers: req.headers },
      (answer) => {
        const { link: upstreamLink } = answer.headers;
        const link = typeof upstreamLink === "string" ? upstreamLink.replaceAll(target, proxyUrl) : undefined;
        res.writeHead(answer.statusCode ?? 502, { ...answer.headers, ...(link ? { link } : {}) });
        answer.pipe(res);
      },
    );
    req.pipe(forwarded);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  if (!address || typeof address === "string") throw new Error("proxy got no port");
  proxyUrl = `http://127.0.0.1:${address.port}`;
  return { url: proxyUrl, server };
}

describe("reap: runner list pagination race (moto + GitHub stand-in)", function () {
  this.timeout(60_000);
  let moto: MotoServer;
  let github: GitHubApi;

  before(async () => {
    moto = await startMoto({ region: "eu-west-1" });
    github = await startAppEnvironment({ [ORG]: 77 });
  });
  after(async () => {
    await github?.stop();
    await moto?.stop();
  });
  beforeEach(() => resetAppEnvironment(moto, github));

  async function launch(runnerName: string): Promise<string> {
    const tags = { [TAG.stack]: "dev", [TAG.pool]: "linux-x64", [TAG.runnerName]: runnerName };
    return runTaggedInstance(tags);
  }

  it("never ends the busy runner that moved across the page boundary between two page reads", async () => {
    const scope = `org:${ORG}`;
    const runners = Array.from({ length: 121 }, (_, i) =>
      github.addRunner({ name: `linux-x64-${1000 + i}-00000${i % 10}`, scope, status: "online", busy: i === 100 }),
    );
    const busy = runners[100];
    const busyInstance = await launch(busy.name);
    const finished = runners[3];
    let removed = false;
    const proxy = await startProxy(github.url, (url) => {
      if (!removed && url.pathname === `/orgs/${ORG}/actions/runners` && url.searchParams.get("page") === "2") {
        github.runners.delete(finished.id); // an ephemeral runner finishing its job
        removed = true;
      }
    });
    try {
      const anHourLater = () => new Date(Date.now() + 3_600_000); // far past the boot grace
      const report = await reap(
        {
          stack: "dev",
          parameterPrefix: "/cirunners/dev/runners",
          bootGraceMinutes: 10,
          maxJobHours: 8,
          owner: ORG,
          scope: "org",
        },
        {
          ec2: new EC2Client({}),
          ssm: new SSMClient({}),
          github: testGitHubApp(proxy.url),
          ledger: await createLedgerTable(dynamoClient()),
          now: anHourLater,
          log: silent,
        },
      );
      assert.ok(removed, "the list was read in two pages");
      assert.deepEqual(report.terminated, []);
      const described = await new EC2Client({}).send(new DescribeInstancesCommand({ InstanceIds: [busyInstance] }));
      assert.equal(described.Reservations?.[0].Instances?.[0].State?.Name, "running");
      assert.ok(github.runners.has(busy.id), "the busy runner stays registered");
      assert.ok(github.calls[ROUTES.orgListRunners] >= 2);
    } finally {
      await new Promise<void>((resolve) => {
        proxy.server.closeAllConnections();
        proxy.server.close(() => resolve());
      });
    }
  });
});
