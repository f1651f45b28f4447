import * as assert from "node:assert/strict";
import { descendantsOf, installMocks, type RecordedResource, settleRegistrations } from "../../../testkit/pulumi-mocks";

const ACCOUNT = "123456789012";
const REGION = "eu-west-1";
const PROVIDER = `arn:aws:iam::${ACCOUNT}:oidc-provider/token.actions.githubusercontent.com`;

describe("AiReviewRole", function () {
  this.timeout(60_000);
  let recorded: RecordedResource[];
  let mod: typeof import("../../../program/ai-review");

  before(async () => {
    ({ recorded } = await installMocks({ region: REGION, stack: "dev" }));
    mod = await import("../../../program/ai-review");
  });

  async function build(name: string, raw: unknown) {
    const config = mod.aiReviewSchema.parse(raw);
    new mod.AiReviewRole(name, { config, oidcProviderArn: PROVIDER, githubOwner: "acme" });
    await settleRegistrations(recorded);
    const urn = recorded.find((r) => r.type === "cirunners:index:AiReviewRole" && r.name === name)?.urn;
    assert.ok(urn);
    const children = descendantsOf(recorded, urn);
    const one = (type: string) => {
      const found = children.filter((r) => r.type === type);
      assert.equal(found.length, 1, type);
      return found[0];
    };
    return { children, one };
  }

  it("trusts only the allowed repositories' pull_request subjects, in both formats, aud pinned", async () => {
    const { one } = await build("review", {
      model: "anthropic.claude-sonnet-4-5-20250929-v1:0",
      repositories: [{ repository: "acme/app", ownerId: 11, repositoryId: 22 }, { repository: "acme/web" }],
    });
    const [statement, ...more] = JSON.parse(one("aws:iam/role:Role").inputs.assumeRolePolicy).Statement;
    assert.equal(more.length, 0);
    assert.deepEqual(statement.Principal, { Federated: PROVIDER });
    assert.deepEqual(statement.Condition, {
      StringEquals: {
        "token.actions.githubusercontent.com:aud": "sts.amazonaws.com",
        "token.actions.githubusercontent.com:sub": [
          "repo:acme/app:pull_request",
          "repo:acme-11/app-22:pull_request",
          "repo:acme/web:pull_request",
        ],
      },
    });
  });

  it("may invoke the configured foundation model only, and sets the three repository variables", async () => {
    const model = "anthropic.claude-sonnet-4-5-20250929-v1:0";
    const { one, children } = await build("fm", { model, repositories: [{ repository: "acme/app" }] });
    const policy = JSON.parse(one("aws:iam/rolePolicy:RolePolicy").inputs.policy);
    assert.deepEqual(policy.Statement, [
      {
        Sid: "InvokeReviewModel",
        Effect: "Allow",
        Action: ["bedrock:InvokeModel", "bedrock:InvokeModelWithResponseStream"],
        Resource: `arn:aws:bedrock:${REGION}::foundation-model/${model}`,
      },
    ]);
    const variables = children.filter((r) => r.type === "github:index/actionsVariable:ActionsVariable");
    assert.deepEqual(
      Object.fromEntries(variables.map((v) => [v.inputs.variableName, [v.inputs.repository, v.inputs.value]])),
      {
        CIRUNNERS_AI_REVIEW_ROLE_ARN: ["app", one("aws:iam/role:Role").state.arn],
        CIRUNNERS_AI_REVIEW_REGION: ["app", REGION],
        CIRUNNERS_AI_REVIEW_MODEL: ["app", model],
      },
    );
  });

  it("for an inference profile: the profile, and its foundation model in each routed region through it only", async () => {
    const { one } = await build("profile", {
      model: "us.anthropic.claude-sonnet-4-5-20250929-v1:0",
      region: "us-east-1",
      routesTo: ["us-west-2", "us-east-1", "us-east-2"],
      repositories: [{ repository: "acme/app" }],
    });
    const profileArn = `arn:aws:bedrock:us-east-1:${ACCOUNT}:inference-profile/us.anthropic.claude-sonnet-4-5-20250929-v1:0`;
    const [profile, models, ...more] = JSON.parse(one("aws:iam/rolePolicy:RolePolicy").inputs.policy).Statement;
    assert.equal(more.length, 0);
    assert.equal(profile.Resource, profileArn);
    assert.deepEqual(
      models.Resource,
      ["us-east-1", "us-east-2", "us-west-2"].map(
        (r) => `arn:aws:bedrock:${r}::foundation-model/anthropic.claude-sonnet-4-5-20250929-v1:0`,
      ),
    );
    assert.deepEqual(models.Condition, { StringEquals: { "bedrock:InferenceProfileArn": profileArn } });
    for (const s of [profile, models])
      assert.deepEqual(s.Action, ["bedrock:InvokeModel", "bedrock:InvokeModelWithResponseStream"]);
  });

  it("config: a profile needs routesTo, a foundation model refuses it, ids come in pairs", () => {
    const issues = (raw: unknown) => JSON.stringify(mod.aiReviewSchema.safeParse(raw).error?.issues ?? []);
    const repositories = [{ repository: "acme/app" }];
    assert.match(issues({ model: "eu.anthropic.claude-x-v1:0", repositories }), /routesTo/);
    assert.match(issues({ model: "anthropic.claude-x-v1:0", routesTo: ["eu-west-1"], repositories }), /routesTo/);
    assert.match(
      issues({ model: "anthropic.claude-x-v1:0", repositories: [{ repository: "acme/app", repositoryId: 2 }] }),
      /both ownerId and repositoryId/,
    );
    assert.match(issues({ model: "anthropic.claude-x-v1:0", repositories: [] }), /at least one repository/);
    assert.equal(issues({ model: "anthropic.claude-x-v1:0", repositories }), "[]");
  });
});
