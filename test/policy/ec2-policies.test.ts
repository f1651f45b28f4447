import * as assert from "node:assert/strict";
import { UNKNOWN } from "../../policy/evaluate";
import { goodInstance, goodLt, INSTANCE, LT, VOLUME } from "./ec2-fixtures";
import { assertClean, assertNotApplicable, assertViolates, messages, res, runPolicy } from "./helpers";

describe("aws-ec2-instance-imdsv2-required", () => {
  const P = "aws-ec2-instance-imdsv2-required";

  it("flags missing metadataOptions and optional tokens", async () => {
    await assertViolates(P, [res(LT, "lt", goodLt({ metadataOptions: undefined }))], "metadataOptions is not set");
    await assertViolates(
      P,
      [res(INSTANCE, "i", goodInstance({ metadataOptions: { httpTokens: "optional" } }))],
      'metadataOptions.httpTokens is "optional"',
    );
    await assertViolates(
      P,
      [res(LT, "lt", goodLt({ metadataOptions: { httpEndpoint: "enabled" } }))],
      "metadataOptions.httpTokens is not set",
    );
  });

  it("accepts required tokens, a disabled endpoint, unknowns and launch-template instances", async () => {
    await assertClean(P, [
      res(LT, "a", goodLt()),
      res(LT, "b", goodLt({ metadataOptions: { httpEndpoint: "disabled" } })),
      res(LT, "c", goodLt({ metadataOptions: UNKNOWN })),
      res(LT, "d", goodLt({ metadataOptions: { httpTokens: UNKNOWN } })),
      res(INSTANCE, "e", { launchTemplate: { id: "lt-1" } }),
    ]);
  });

  it("is not applicable to other types; exemptions", async () => {
    const v = res(VOLUME, "v", {});
    assertNotApplicable(await runPolicy(P, [v]), P, /Policy only applies/, v.urn);
    const legacy = res(INSTANCE, "legacy", goodInstance({ metadataOptions: undefined }));
    assert.deepEqual(await messages(P, [legacy], { config: { [P]: { exemptNamePatterns: ["legacy"] } } }), []);
  });
});

describe("aws-ec2-instance-no-public-ip", () => {
  const P = "aws-ec2-instance-no-public-ip";

  it('flags launch template interfaces with associatePublicIpAddress "true" and instances with true', async () => {
    await assertViolates(
      P,
      [
        res(
          LT,
          "lt",
          goodLt({ networkInterfaces: [{ associatePublicIpAddress: "false" }, { associatePublicIpAddress: "true" }] }),
        ),
      ],
      'networkInterfaces[1].associatePublicIpAddress is "true"',
    );
    await assertViolates(
      P,
      [res(LT, "lt", goodLt({ networkInterfaces: [{ associatePublicIpAddress: true }] }))],
      "networkInterfaces[0]",
    );
    await assertViolates(
      P,
      [res(INSTANCE, "i", goodInstance({ associatePublicIpAddress: true }))],
      "associatePublicIpAddress is true",
    );
  });

  it("accepts false/unset and unknown", async () => {
    await assertClean(P, [
      res(LT, "a", goodLt()),
      res(LT, "b", goodLt({ networkInterfaces: undefined })),
      res(LT, "c", goodLt({ networkInterfaces: [{ associatePublicIpAddress: UNKNOWN }] })),
      res(LT, "d", goodLt({ networkInterfaces: UNKNOWN })),
      res(INSTANCE, "e", goodInstance({ associatePublicIpAddress: UNKNOWN })),
      res(INSTANCE, "f", goodInstance({ associatePublicIpAddress: undefined })),
    ]);
  });

  it("is not applicable to other types; exemptions", async () => {
    const v = res(VOLUME, "v", {});
    assertNotApplicable(await runPolicy(P, [v]), P, /Policy only applies/, v.urn);
    const nat = res(INSTANCE, "nat", goodInstance({ associatePublicIpAddress: true, tags: { role: "nat" } }));
    assert.deepEqual(await messages(P, [nat], { config: { [P]: { exemptTags: { role: "nat" } } } }), []);
  });
});
