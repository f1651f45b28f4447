/**
 * The checks issue 16 asked for: each with a bad case (the message names the key and says what is wrong) and a
 * good case (the same key, corrected, passes).
 */
import * as assert from "node:assert/strict";
import { parseStackConfig } from "../../program/config";
import { problemsOf, validConfig, type Where } from "./support";

interface Case extends Where {
  mutate?: (c: any) => void;
}

/** The problems reported for a changed config; [] when it parses. */
function problems({ mutate, ...where }: Case): string[] {
  const config = validConfig();
  mutate?.(config);
  return problemsOf(config, where);
}

function rejects(c: Case, pattern: RegExp): void {
  const list = problems(c);
  assert.ok(
    list.some((p) => pattern.test(p)),
    `expected ${pattern}, got:\n${list.join("\n")}`,
  );
}

const accepts = (c: Case) => assert.deepEqual(problems(c), []);

const codebuild = (c: any, extra: object = {}) => (c.codebuild = { regions: [{ region: "eu-west-1" }], ...extra });

describe("stack configuration checks", () => {
  it("regions from AWS's list, with the nearest one for a typo", () => {
    rejects(
      { region: "eu-wset-1" },
      /^aws:region: expected an AWS region like eu-west-1 \(did you mean eu-west-1\?\), found "eu-wset-1"$/,
    );
    rejects(
      {
        mutate: (c) =>
          codebuild(c, {
            regions: [{ region: "us-eats-1", vpcId: "vpc-0a1b2c3d", privateSubnetIds: ["subnet-0a1b2c3d"] }],
          }),
      },
      /^cirunners:codebuild\.regions\[0\]\.region: .*did you mean us-east-1\?\), found "us-eats-1"$/,
    );
    rejects({ region: "xx-nowhere-9" }, /^aws:region: expected an AWS region like eu-west-1, found "xx-nowhere-9"$/);
    for (const region of ["us-east-1", "ap-southeast-7", "us-gov-west-1", "cn-north-1"]) accepts({ region });
  });

  it("time zones through Intl", () => {
    const warm = (timezone: string) => (c: any) =>
      (c.runners.pools[0].warmPool = { size: 1, startHour: 7, endHour: 19, timezone });
    rejects(
      { mutate: warm("Europe/Berln") },
      /^cirunners:runners\.pools\[0\]\.warmPool\.timezone: expected an IANA time zone/,
    );
    accepts({ mutate: warm("Europe/Berlin") });
  });

  it("flow log retention must be a CloudWatch period", () => {
    const retention = (days: number) => (c: any) => (c.network = { flowLogRetentionDays: days });
    rejects(
      { mutate: retention(10) },
      /^cirunners:network\.flowLogRetentionDays: expected one of CloudWatch's retention periods: 1, 3, .*found 10$/,
    );
    accepts({ mutate: retention(14) });
  });

  it("instance types from the EC2 catalog", () => {
    const types =
      (...instanceTypes: string[]) =>
      (c: any) =>
        (c.runners.pools[0].instanceTypes = instanceTypes);
    rejects(
      { mutate: types("m9z.large") },
      /^cirunners:runners\.pools\[0\]\.instanceTypes\[0\]: expected an EC2 instance type that exists.*found "m9z\.large"$/,
    );
    rejects({ mutate: types("m7i.large", "m7i.larg") }, /instanceTypes\[1\]: expected an EC2 instance type/);
    rejects({ mutate: types("m7ii.large") }, /did you mean m7i\.large\?/);
    accepts({ mutate: types("m7i.large", "m8i.large", "c7i-flex.large") });
  });

  it("github:owner must be cirunners:github.owner", () => {
    rejects(
      { context: { githubOwner: "acme-labs" } },
      /^github:owner: .*"acme-labs" while cirunners:github\.owner is "acme"/,
    );
    accepts({ context: { githubOwner: "Acme" } });
    accepts({ context: {} });
  });

  it("pools with the same label set are named together", () => {
    const second = (labels: string[]) => (c: any) =>
      c.runners.pools.push({ ...c.runners.pools[0], name: "linux-x64-big", labels, instanceTypes: ["m7i.2xlarge"] });
    rejects(
      { mutate: second(["X64", "Linux", "Self-Hosted"]) },
      /^cirunners:runners\.pools\[1\]\.labels: same label set as pools\[0\] \(pools "linux-x64" and "linux-x64-big"\)/,
    );
    accepts({ mutate: second(["self-hosted", "linux", "x64", "big"]) });
  });

  it("scope repo with CodeBuild takes exactly one repository", () => {
    const repoScope = (repositories: string[]) => (c: any) => {
      c.github = { ...c.github, scope: "repo", repositories: ["orders"] };
      codebuild(c, { repositories });
    };
    rejects(
      { mutate: repoScope(["orders", "payments"]) },
      /^cirunners:codebuild\.repositories: with github\.scope "repo" .* found 2/,
    );
    accepts({ mutate: repoScope(["orders"]) });
  });

  it("vpcId and cidrBlock exclude each other (not an unknown key)", () => {
    const list = problems({
      mutate: (c) =>
        (c.network = {
          vpcId: "vpc-0a1b2c3d",
          privateSubnetIds: ["subnet-0a1b2c3d", "subnet-1a1b2c3d"],
          cidrBlock: "10.0.0.0/16",
        }),
    });
    assert.deepEqual(list, [
      "cirunners:network: vpcId and privateSubnetIds (use an existing VPC) and cidrBlock (create a VPC) exclude each other; keep one set",
    ]);
  });

  describe("names derived from the stack name", () => {
    it("a stack name that makes a Lambda function name longer than 64 characters", () => {
      const longest = "s".repeat(40);
      rejects(
        { stack: `${longest}x` },
        /^stack name "s+x" \(Pulumi\.s+x\.yaml\): the Lambda function name "runners-ingress-webhook-s+x" would have 65 characters, AWS allows 64; use a stack name of at most 40 characters$/,
      );
      accepts({ stack: longest });
    });

    it("the default CodeConnections connection name (32 characters) unless connectionName is set", () => {
      const stack = "feature-branch-stack1"; // 21 characters: gha-runners-<stack> has 33
      rejects(
        { stack, mutate: (c) => codebuild(c) },
        /the CodeConnections connection name "gha-runners-feature-branch-stack1" would have 33 characters, AWS allows 32; set cirunners:codebuild\.connectionName or use a stack name of at most 20 characters$/,
      );
      accepts({ stack, mutate: (c) => codebuild(c, { connectionName: "acme-github" }) });
      accepts({ stack });
    });

    it("characters Lambda, SQS and CodeBuild names do not take", () => {
      rejects(
        { stack: "team.dev" },
        /^stack name "team\.dev" \(Pulumi\.team\.dev\.yaml\): .*letters, digits, "-" and "_" only/,
      );
      accepts({ stack: "team_dev-2" });
    });
  });

  it("reports the schema's problems and the cross checks in one run", () => {
    const list = problems({
      region: "eu-wset-1",
      mutate: (c) => {
        c.github.appId = "x";
        c.runners.pools[0].instanceTypes = ["m9z.large"];
        c.runners.pools.push({ ...c.runners.pools[0], name: "twin" });
        c.network = { flowLogRetentionDays: 10 };
      },
      context: { githubOwner: "other" },
    });
    for (const pattern of [
      /^aws:region/,
      /^github:owner/,
      /github\.appId/,
      /pools\[0\]\.instanceTypes\[0\]/,
      /pools\[1\]\.instanceTypes\[0\]/,
      /pools\[1\]\.labels: same label set/,
      /flowLogRetentionDays/,
    ])
      assert.ok(
        list.some((p) => pattern.test(p)),
        `expected ${pattern} in:\n${list.join("\n")}`,
      );
  });

  it("names the stack file in every line of the message", () => {
    try {
      parseStackConfig({ ...validConfig(), logRetentionDays: 10 }, "dev", "eu-wset-1");
      assert.fail("expected a ConfigError");
    } catch (error) {
      const lines = (error as Error).message.split("\n").slice(1);
      assert.equal(lines.length, 2);
      for (const line of lines)
        assert.match(line, /^ {2}- Pulumi\.dev\.yaml: (aws:region|cirunners:logRetentionDays): /);
    }
  });
});
