/**
 * The runner-cache function and the baked images: with `image: baked` pools it is told the stack's image
 * pipelines (their ARNs computed from the pipelines' names, which RunnerImages uses too) and may start exactly
 * those; without, neither the variable nor the permission exists. That the function reads each architecture back
 * from these names is the contract's round trip (test/contract/pipeline-names.test.ts).
 */
import { strict as assert } from "node:assert";
import { ENV } from "../../../contract/names";
import { readSettings } from "../../../contract/settings";
import { outputValue } from "../../../testkit/pulumi-mocks";
import { assertNoWildcardActions, rolePolicy } from "../support";
import { ACCOUNT, type Built, fullConfig, REGION, useEphemeralRunners } from "./harness";

const PIPELINE = (stack: string, architecture: string) =>
  `arn:aws:imagebuilder:${REGION}:${ACCOUNT}:image-pipeline/cirunners-${stack}-runner-${architecture}`;

/** fullConfig with its arm64 pool and a new x64 pool on the baked image. */
const bakedConfig = {
  ...fullConfig,
  runners: {
    ...fullConfig.runners,
    pools: [
      ...fullConfig.runners.pools.map((p) => (p.name === "linux-arm64" ? { ...p, image: "baked" } : p)),
      {
        name: "release",
        labels: ["self-hosted", "linux", "release"],
        instanceTypes: ["m7i.large"],
        architecture: "x64",
        diskSizeGiB: 40,
        maxRunners: 2,
        image: "baked",
      },
    ],
  },
};

describe("EphemeralRunners: the runner cache rebuilds the baked images", () => {
  const h = useEphemeralRunners();
  const runnerCache = (built: Built) => ({
    env: built.named("aws:lambda/function:Function", "runners-runner-cache").inputs.environment.variables as Record<
      string,
      string
    >,
    statements: rolePolicy(built.children, built.named("aws:iam/role:Role", "runners-runner-cache")),
  });

  it("names each baked architecture's pipeline in the environment and may start exactly those", async () => {
    const built = await h.build("runners", bakedConfig);
    const { env, statements } = runnerCache(built);
    const arns = JSON.parse(env[ENV.imagePipelineArns]);
    assert.deepEqual(arns, [PIPELINE("dev", "arm64"), PIPELINE("dev", "x64")]);
    // The function accepts what the program sets.
    const settings = readSettings("runner-cache", env);
    assert.deepEqual(settings[ENV.imagePipelineArns], arns);

    const start = statements.filter((s) => [s.Action].flat().some((a) => a.startsWith("imagebuilder:")));
    assert.deepEqual(start, [
      {
        Sid: "StartRunnerImageBuilds",
        Effect: "Allow",
        Action: ["imagebuilder:StartImagePipelineExecution"],
        Resource: arns,
      },
    ]);
    assert.ok(!statements.some((s) => [s.Action].flat().some((a) => a.startsWith("iam:"))), "no pass-role, no SLR");
    assertNoWildcardActions(statements);

    // The pack (IAM rules read against the Service Authorization Reference) passes the function's role and policy.
    const { evaluate } = await import("../../../policy/evaluate");
    const cacheFunction = built.children.filter((r) => r.name.startsWith("runners-runner-cache"));
    const violations = await evaluate(
      cacheFunction.map((r) => ({ type: r.type, name: r.name, urn: r.urn, props: r.state, parent: r.parentUrn })),
    );
    assert.deepEqual(
      violations.filter((v) => v.enforcementLevel !== "advisory").map((v) => `${v.policy} ${v.name}: ${v.message}`),
      [],
    );
    // ...and would catch the same action on every pipeline of the account.
    const widened = cacheFunction.map((r) => {
      if (r.type !== "aws:iam/rolePolicy:RolePolicy") return r;
      const document = JSON.parse(r.state.policy);
      for (const s of document.Statement) if (s.Sid === "StartRunnerImageBuilds") s.Resource = "*";
      return { ...r, state: { ...r.state, policy: JSON.stringify(document) } };
    });
    const caught = await evaluate(
      widened.map((r) => ({ type: r.type, name: r.name, urn: r.urn, props: r.state, parent: r.parentUrn })),
    );
    assert.ok(
      caught.some((v) => v.enforcementLevel === "mandatory"),
      "imagebuilder:StartImagePipelineExecution on * is a violation",
    );
  });

  it("names the very pipelines RunnerImages creates (lower-cased as Image Builder does in ARNs)", async () => {
    const { RunnerImages } = await import("../../../program/runner-images/runner-images");
    const { runnerImagesSchema } = await import("../../../program/runner-images/config");
    const built = await h.build("staging-runners", bakedConfig, "Staging");
    const images = new RunnerImages("staging-images", {
      stack: "Staging",
      architectures: ["arm64", "x64"],
      cacheBucket: built.component.runnerCacheBucket,
      vpcId: "vpc-0a1b2c3d4e5f60718",
      privateSubnetIds: ["subnet-0a1b2c3d4e5f60711"],
      location: { partition: "aws", region: REGION, account: ACCOUNT },
      settings: runnerImagesSchema.parse({}),
      logRetentionDays: 14,
    });
    const names = await Promise.all(Object.values(images.pipelines).map((p) => outputValue<string>(p!.name)));
    const env = built.named("aws:lambda/function:Function", "staging-runners-runner-cache").inputs.environment
      .variables as Record<string, string>;
    assert.deepEqual(
      JSON.parse(env[ENV.imagePipelineArns]),
      names.map((n) => `arn:aws:imagebuilder:${REGION}:${ACCOUNT}:image-pipeline/${n.toLowerCase()}`),
    );
    assert.deepEqual(JSON.parse(env[ENV.imagePipelineArns]), [
      PIPELINE("staging", "arm64"),
      PIPELINE("staging", "x64"),
    ]);
  });

  it("sets neither the variable nor the permission without baked pools", async () => {
    const built = await h.build("plain-runners", fullConfig);
    const env = built.named("aws:lambda/function:Function", "plain-runners-runner-cache").inputs.environment
      .variables as Record<string, string>;
    assert.equal(env[ENV.imagePipelineArns], undefined);
    assert.deepEqual(readSettings("runner-cache", env)[ENV.imagePipelineArns], []);
    const statements = rolePolicy(built.children, built.named("aws:iam/role:Role", "plain-runners-runner-cache"));
    assert.ok(!statements.some((s) => s.Sid === "StartRunnerImageBuilds"));
  });
});
