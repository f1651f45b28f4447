import { strict as assert } from "node:assert";
import { LEDGER_KEYS } from "../../contract/ledger";
import { outputValue } from "../../testkit/pulumi-mocks";
import { useEphemeralRunners } from "./ephemeral-runners/harness";
import { ACCOUNT, APP_KEY, environmentOf, grantsOf, REGION, rawConfig, serviceGrants } from "./ledger-fixtures";

describe("JobLedger and the ledger's users in EphemeralRunners", () => {
  const h = useEphemeralRunners();

  async function build(name: string, stack: string, raw = rawConfig()) {
    const { component, children, named } = await h.build(name, raw, stack);
    const table = named("aws:dynamodb/table:Table", `${name}-ledger`);
    const tableArn = `arn:aws:dynamodb:${REGION}:${ACCOUNT}:table/${table.state.name}`;
    return { component, children, table, tableArn };
  }

  describe("on the dev stack", () => {
    let built: Awaited<ReturnType<typeof build>>;
    before(async () => {
      built = await build("runners", "dev");
    });

    it("creates an on-demand table keyed by the numeric job id, with TTL on expiresAt and point-in-time recovery", () => {
      const t = built.table.inputs;
      assert.equal(t.billingMode, "PAY_PER_REQUEST");
      assert.equal(t.hashKey, LEDGER_KEYS.partitionKey);
      assert.equal(t.rangeKey, undefined, "one record per job");
      assert.deepEqual(t.ttl, { attributeName: "expiresAt", enabled: true });
      assert.deepEqual(t.pointInTimeRecovery, { enabled: true });
      assert.deepEqual(
        [...t.attributes].sort((a: { name: string }, b: { name: string }) => a.name.localeCompare(b.name)),
        [
          { name: "dueAt", type: "S" },
          { name: "jobId", type: "N" },
          { name: "pool", type: "S" },
        ],
      );
      assert.deepEqual(t.tags, { "cirunners:stack": "dev" });
    });

    it("has the sparse due index keyed by pool and due time, projecting whole records for the reconciler", () => {
      assert.deepEqual(built.table.inputs.globalSecondaryIndexes, [
        {
          name: "due",
          keySchemas: [
            { attributeName: "pool", keyType: "HASH" },
            { attributeName: "dueAt", keyType: "RANGE" },
          ],
          projectionType: "ALL",
        },
      ]);
    });

    it("encrypts with the AWS-owned key (no KMS key to rotate or grant) and leaves deletion protection off", () => {
      assert.deepEqual(built.table.inputs.serverSideEncryption, { enabled: false });
      assert.equal(built.table.inputs.deletionProtectionEnabled, false);
      assert.equal(built.children.filter((r) => r.type === "aws:kms/key:Key").length, 0);
    });

    it("exposes the table's and the index's ARNs in the stack's partition", async () => {
      const ledger = built.component.ledger;
      assert.equal(await outputValue(ledger.tableArn), built.tableArn);
      assert.equal(await outputValue(ledger.dueIndexArn), `${built.tableArn}/index/due`);
    });

    it("tells the webhook, the launcher and the reaper the table's name; the runner cache nothing of it", () => {
      for (const fn of ["runners-ingress-webhook", "runners-launcher", "runners-reaper"]) {
        assert.equal(environmentOf(built.children, fn).CIRUNNERS_LEDGER_TABLE, built.table.state.name, fn);
      }
      for (const fn of ["runners-runner-cache"]) {
        assert.equal(environmentOf(built.children, fn).CIRUNNERS_LEDGER_TABLE, undefined, fn);
      }
    });

    it("tells the webhook the owner and scope, and no repositories in org scope", () => {
      const env = environmentOf(built.children, "runners-ingress-webhook");
      assert.equal(env.CIRUNNERS_GITHUB_OWNER, "acme-platform");
      assert.equal(env.CIRUNNERS_RUNNER_SCOPE, "org");
      assert.equal(env.CIRUNNERS_REPOSITORIES, "[]");
    });

    it("grants each function exactly the DynamoDB actions its code sends, on the table, never on the index", () => {
      const dynamo = (fn: string) => serviceGrants(grantsOf(built.children, fn), "dynamodb");
      const t = built.tableArn;
      assert.deepEqual(dynamo("runners-ingress-webhook"), [
        `dynamodb:GetItem ${t}`,
        `dynamodb:PutItem ${t}`,
        `dynamodb:UpdateItem ${t}`,
      ]);
      assert.deepEqual(dynamo("runners-launcher"), [`dynamodb:GetItem ${t}`, `dynamodb:UpdateItem ${t}`]);
      assert.deepEqual(dynamo("runners-reaper"), [`dynamodb:GetItem ${t}`]);
      assert.deepEqual(dynamo("runners-runner-cache"), []);
    });

    it("keeps the launcher's other grants: the job queue and the App key", () => {
      const grants = grantsOf(built.children, "runners-launcher");
      assert.ok(grants.some((g) => g.startsWith("sqs:ReceiveMessage arn:aws:sqs:")));
      assert.ok(grants.includes(`ssm:GetParameter arn:aws:ssm:${REGION}:${ACCOUNT}:parameter${APP_KEY}`));
    });
  });

  it("turns deletion protection on for a prod stack", async () => {
    const { table } = await build("prodrunners", "prod");
    assert.equal(table.inputs.deletionProtectionEnabled, true);
  });

  it("lists the repositories in repo scope, for the webhook's routing", async () => {
    const raw = rawConfig({ scope: "repo", repositories: ["orders-service", "payments"] });
    const { children } = await build("reporunners", "dev", raw);
    const env = environmentOf(children, "reporunners-ingress-webhook");
    assert.equal(env.CIRUNNERS_RUNNER_SCOPE, "repo");
    assert.deepEqual(JSON.parse(env.CIRUNNERS_REPOSITORIES), ["orders-service", "payments"]);
  });
});
