// aws-ec2-instance-terminate-on-shutdown: runner templates and instances must terminate on shutdown; the launch
// templates of EKS managed node groups must not (EKS rejects the setting), which only the stack can tell.
import * as assert from "node:assert/strict";
import { type EvalResource, evaluate, UNKNOWN } from "../../policy/evaluate";
import { goodInstance, goodLt, INSTANCE, LT, VOLUME } from "./ec2-fixtures";
import { assertClean, assertNotApplicable, assertViolates, messages, res, runPolicy } from "./helpers";
import { NODE_GROUP } from "./resource-types";

const P = "aws-ec2-instance-terminate-on-shutdown";

/** A node group template as program/arc-runners/spot-capacity.ts declares it: no shutdown behaviour, no subnet. */
const nodeTemplate = (name: string, extra: Record<string, unknown> = {}) =>
  res(LT, name, goodLt({ instanceInitiatedShutdownBehavior: undefined, networkInterfaces: undefined, ...extra }));

/** A node group launching from `template` the way the engine sees it during preview (id unknown, dependency known). */
const nodeGroup = (name: string, template: EvalResource, extra: Partial<EvalResource> = {}) =>
  res(
    NODE_GROUP,
    name,
    { clusterName: "ci", launchTemplate: { id: UNKNOWN, version: UNKNOWN } },
    { propertyDependencies: { launchTemplate: [template.urn] }, dependencies: [template.urn], ...extra },
  );

const flaggedNames = async (resources: EvalResource[]) =>
  (await runPolicy(P, resources)).violations.map((v) => v.name).sort();

describe("aws-ec2-instance-terminate-on-shutdown", () => {
  it("flags launch templates and instances without terminate", async () => {
    await assertViolates(
      P,
      [res(LT, "lt", goodLt({ instanceInitiatedShutdownBehavior: undefined }))],
      'instanceInitiatedShutdownBehavior is not set (the default is "stop")',
    );
    await assertViolates(
      P,
      [res(INSTANCE, "i", goodInstance({ instanceInitiatedShutdownBehavior: "stop" }))],
      'instanceInitiatedShutdownBehavior is "stop"',
    );
    // Outputs (what a stack policy sees after an update) carry an unset string as "".
    await assertViolates(
      P,
      [res(LT, "lt", goodLt({ instanceInitiatedShutdownBehavior: "" }))],
      "instanceInitiatedShutdownBehavior is not set",
    );
  });

  it("reports against the resource, as a stack policy", async () => {
    const lt = res(LT, "lt", goodLt({ instanceInitiatedShutdownBehavior: "stop" }));
    const [v] = (await runPolicy(P, [lt])).violations;
    assert.equal(v.urn, lt.urn);
    assert.equal(v.enforcementLevel, "mandatory");
  });

  it("accepts terminate, unknown values, and instances inheriting from a launch template", async () => {
    await assertClean(P, [
      res(LT, "lt", goodLt()),
      res(INSTANCE, "i", goodInstance()),
      res(LT, "u", goodLt({ instanceInitiatedShutdownBehavior: UNKNOWN })),
      res(INSTANCE, "from-lt", { launchTemplate: { name: "runner" } }),
      res(INSTANCE, "from-lt-outputs", { launchTemplate: { id: "lt-1" }, instanceInitiatedShutdownBehavior: "" }),
    ]);
  });

  describe("EKS managed node group templates", () => {
    it("a template a node group launches from passes; the same template without the node group fails", async () => {
      const lt = nodeTemplate("nodes-lt");
      await assertClean(P, [lt, nodeGroup("nodes", lt)]);
      assert.deepEqual(await flaggedNames([lt]), ["nodes-lt"]);
    });

    it("a runner template without terminate still fails next to node groups", async () => {
      const nodes = nodeTemplate("nodes-lt");
      const runner = res(LT, "runner-lt", goodLt({ instanceInitiatedShutdownBehavior: undefined }));
      assert.deepEqual(await flaggedNames([nodes, runner, nodeGroup("nodes", nodes)]), ["runner-lt"]);
    });

    it("only the node group's launchTemplate counts: dependsOn, other properties and the template's own tags do not", async () => {
      const lt = nodeTemplate("lt", { tags: { "eks:nodegroup-name": "nodes", "cirunners.io/role": "system" } });
      const viaDependsOn = res(
        NODE_GROUP,
        "g1",
        { launchTemplate: { id: "lt-other", version: "1" } },
        {
          dependencies: [lt.urn],
        },
      );
      const viaOtherProperty = res(
        NODE_GROUP,
        "g2",
        { launchTemplate: UNKNOWN, tags: UNKNOWN },
        {
          propertyDependencies: { tags: [lt.urn] },
        },
      );
      assert.deepEqual(await flaggedNames([lt, viaDependsOn, viaOtherProperty]), ["lt"]);
    });

    it("a launchTemplate value computed from several templates names none of them", async () => {
      const a = nodeTemplate("a-lt");
      const b = nodeTemplate("b-lt");
      const group = nodeGroup("g", a, { propertyDependencies: { launchTemplate: [a.urn, b.urn] } });
      assert.deepEqual(await flaggedNames([a, b, group]), ["a-lt", "b-lt"]);
    });

    it("known references match the template's id or name (outputs after an update)", async () => {
      const byId = nodeTemplate("by-id", { id: "lt-0123", name: "by-id-7f3a" });
      const byName = nodeTemplate("by-name", { id: "lt-0456", name: "nodes-template" });
      const other = nodeTemplate("other", { id: "lt-0789" });
      await assertClean(P, [
        byId,
        byName,
        res(NODE_GROUP, "g1", { launchTemplate: { id: "lt-0123", version: "3" } }),
        res(NODE_GROUP, "g2", { launchTemplate: { name: "nodes-template", version: "$Latest" } }),
      ]);
      assert.deepEqual(
        await flaggedNames([other, res(NODE_GROUP, "g3", { launchTemplate: { id: "lt-9999", version: "1" } })]),
        ["other"],
      );
    });

    it("an unknown reference without dependency information decides nothing", async () => {
      const lt = nodeTemplate("lt");
      const group = res(NODE_GROUP, "g", { launchTemplate: { id: UNKNOWN, version: UNKNOWN } });
      assert.deepEqual(await flaggedNames([lt, group]), ["lt"]);
    });

    it("the other EC2 rules still apply to node group templates (EKS accepts IMDSv2, hop limit, no public IP)", async () => {
      const lt = nodeTemplate("nodes-lt", {
        metadataOptions: { httpTokens: "optional", httpPutResponseHopLimit: 2 },
        networkInterfaces: [{ associatePublicIpAddress: "true" }],
      });
      const policies = new Set((await evaluate([lt, nodeGroup("nodes", lt)])).map((v) => v.policy));
      assert.deepEqual([...policies].sort(), [
        "aws-ec2-instance-imds-hop-limit",
        "aws-ec2-instance-imdsv2-required",
        "aws-ec2-instance-no-public-ip",
      ]);
    });
  });

  it("exemptions by name pattern and tag; default: none", async () => {
    const bastion = res(
      INSTANCE,
      "bastion-1",
      goodInstance({ instanceInitiatedShutdownBehavior: "stop", tags: { lifecycle: "long-lived" } }),
    );
    assert.equal((await messages(P, [bastion])).length, 1, "no exemptions by default");
    const byName = await runPolicy(P, [bastion], { config: { [P]: { exemptNamePatterns: ["bastion-*"] } } });
    assert.deepEqual(byName.violations, []);
    assert.deepEqual(await messages(P, [bastion], { config: { [P]: { exemptTags: { lifecycle: "*" } } } }), []);
    assert.equal(
      (await messages(P, [bastion], { config: { [P]: { exemptTags: { lifecycle: "ephemeral" } } } })).length,
      1,
    );
  });

  it("is not applicable to a stack without launch templates or instances", async () => {
    assertNotApplicable(
      await runPolicy(P, [res(VOLUME, "v", {}), res(NODE_GROUP, "g", {})]),
      P,
      /Policy only applies to resources of types 'aws:ec2\/launchTemplate:LaunchTemplate', 'aws:ec2\/instance:Instance'/,
    );
  });
});
