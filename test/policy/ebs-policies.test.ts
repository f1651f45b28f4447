import * as assert from "node:assert/strict";
import { UNKNOWN } from "../../policy/evaluate";
import { scanVolumes } from "../../policy/lib/volumes";
import { EBD, goodInstance, goodLt, INSTANCE, LT, QUEUE, VOLUME } from "./ec2-fixtures";
import { assertClean, assertNotApplicable, assertViolates, messages, res, runPolicy } from "./helpers";

describe("aws-ebs-volume-encrypted", () => {
  const P = "aws-ebs-volume-encrypted";

  it('flags launch template EBS mappings whose encrypted is not the string "true"', async () => {
    await assertViolates(
      P,
      [
        res(
          LT,
          "lt",
          goodLt({
            blockDeviceMappings: [{ deviceName: "/dev/xvda", ebs: { volumeType: "gp3", encrypted: "false" } }],
          }),
        ),
      ],
      'blockDeviceMappings[0] (/dev/xvda).ebs is not encrypted (encrypted = "false")',
      '"true"',
    );
    await assertViolates(
      P,
      [res(LT, "lt", goodLt({ blockDeviceMappings: [{ deviceName: "/dev/xvda", ebs: { volumeType: "gp3" } }] }))],
      "encrypted = <not set>",
    );
  });

  it("leaves a launch template's undeclared root volume to aws-ec2-launch-template-root-volume-declared", async () => {
    await assertClean(P, [res(LT, "lt", goodLt({ blockDeviceMappings: undefined }))]);
  });

  it("counts an unset encrypted as encrypted in a stack with aws.ebs.EncryptionByDefault enabled", async () => {
    const unset = [
      res(LT, "lt", goodLt({ blockDeviceMappings: [{ deviceName: "/dev/xvda", ebs: { volumeType: "gp3" } }] })),
      res(INSTANCE, "i", goodInstance({ rootBlockDevice: undefined, ebsBlockDevices: [{ deviceName: "/dev/sdf" }] })),
      res(VOLUME, "v", { type: "gp3" }),
    ];
    // Without it: every one is reported, and the message points at encryption by default.
    const found = await assertViolates(P, unset, "aws.ebs.EncryptionByDefault");
    assert.equal(found.length, 4);
    await assertClean(P, [...unset, res(EBD, "ebd", { enabled: true })]);
    await assertClean(P, [...unset, res(EBD, "ebd", {})]); // enabled defaults to true
    await assertClean(P, [...unset, res(EBD, "ebd", { enabled: UNKNOWN })]); // nothing certain during preview
    assert.equal((await messages(P, [...unset, res(EBD, "ebd", { enabled: false })])).length, 4);
  });

  it("still reports an explicit encrypted false next to aws.ebs.EncryptionByDefault", async () => {
    await assertViolates(
      P,
      [res(VOLUME, "v", { type: "gp3", encrypted: false }), res(EBD, "ebd", { enabled: true })],
      "this volume is not encrypted (encrypted = false)",
    );
  });

  it("flags instance root and extra volumes, and aws.ebs.Volume", async () => {
    await assertViolates(
      P,
      [res(INSTANCE, "i", goodInstance({ rootBlockDevice: { volumeType: "gp3", encrypted: false } }))],
      "rootBlockDevice is not encrypted",
    );
    await assertViolates(
      P,
      [res(INSTANCE, "i", goodInstance({ ebsBlockDevices: [{ deviceName: "/dev/sdf", volumeType: "gp3" }] }))],
      "ebsBlockDevices[0] (/dev/sdf) is not encrypted",
    );
    await assertViolates(
      P,
      [res(INSTANCE, "i", goodInstance({ rootBlockDevice: undefined }))],
      "declares no rootBlockDevice",
    );
    await assertViolates(P, [res(VOLUME, "v", { type: "gp3", size: 10 })], "this volume is not encrypted");
  });

  it('accepts encrypted volumes (string "true" and boolean true) and instances launched from a template', async () => {
    await assertClean(P, [
      res(LT, "lt", goodLt()),
      res(
        LT,
        "lt-bool",
        goodLt({ blockDeviceMappings: [{ deviceName: "/dev/xvda", ebs: { volumeType: "gp3", encrypted: true } }] }),
      ),
      res(INSTANCE, "i", goodInstance()),
      res(INSTANCE, "from-lt", { launchTemplate: { id: "lt-1", version: "$Latest" } }),
      res(VOLUME, "v", { type: "gp3", encrypted: true, kmsKeyId: "arn:aws:kms:eu-west-1:123456789012:key/x" }),
    ]);
  });

  it("skips unknown values but still reports known bad volumes next to them", async () => {
    await assertClean(P, [
      res(LT, "a", goodLt({ blockDeviceMappings: UNKNOWN })),
      res(
        LT,
        "b",
        goodLt({ blockDeviceMappings: [{ deviceName: "/dev/xvda", ebs: { volumeType: "gp3", encrypted: UNKNOWN } }] }),
      ),
      res(INSTANCE, "c", goodInstance({ rootBlockDevice: UNKNOWN })),
      res(VOLUME, "d", { type: "gp3", encrypted: UNKNOWN }),
    ]);
    await assertViolates(
      P,
      [
        res(
          LT,
          "e",
          goodLt({
            blockDeviceMappings: [UNKNOWN, { deviceName: "/dev/sdf", ebs: { volumeType: "gp3", encrypted: "false" } }],
          }),
        ),
      ],
      "blockDeviceMappings[1] (/dev/sdf).ebs",
    );
  });

  it("is not applicable to other types; config exemptions", async () => {
    // A stack policy: not applicable to a stack without volumes (no urn).
    assertNotApplicable(await runPolicy(P, [res(QUEUE, "q", {}), res(EBD, "ebd", {})]), P, /Policy only applies/);
    const v = res(VOLUME, "scratch", { type: "gp3", tags: { "data-class": "scratch" } });
    assert.deepEqual(await messages(P, [v], { config: { [P]: { exemptTags: { "data-class": "scratch" } } } }), []);
    assert.deepEqual(
      await messages(P, [v], {
        config: { [P]: { exemptStackTags: { env: "sandbox" } } },
        stackTags: { env: "sandbox" },
      }),
      [],
    );
    assert.equal(
      (await messages(P, [v], { config: { [P]: { exemptStackTags: { env: "sandbox" } } }, stackTags: { env: "prod" } }))
        .length,
      1,
    );
  });

  it("scanVolumes lists every declared volume", () => {
    const scan = scanVolumes(INSTANCE, goodInstance());
    assert.deepEqual(
      scan.volumes.map((v) => v.where),
      ["rootBlockDevice", "ebsBlockDevices[0] (/dev/sdf)"],
    );
    assert.equal(scan.unknown, false);
  });
});

describe("aws-ec2-launch-template-root-volume-declared", () => {
  const P = "aws-ec2-launch-template-root-volume-declared";
  const data = { deviceName: "/dev/sdf", ebs: { volumeType: "gp3", encrypted: "true", volumeSize: 100 } };

  it("flags a template that maps only a data volume, or nothing", async () => {
    await assertViolates(
      P,
      [res(LT, "lt", goodLt({ blockDeviceMappings: [data] }))],
      "maps only /dev/sdf, none of which is a root device name (/dev/xvda, /dev/sda1)",
      "the root volume keeps the AMI's snapshot settings",
      "rootDeviceNames",
    );
    await assertViolates(
      P,
      [res(LT, "lt", goodLt({ blockDeviceMappings: undefined }))],
      "declares no blockDeviceMappings",
    );
    await assertViolates(P, [res(LT, "lt", goodLt({ blockDeviceMappings: [] }))], "declares no blockDeviceMappings");
    await assertViolates(
      P,
      [res(LT, "lt", goodLt({ blockDeviceMappings: [{ deviceName: "/dev/xvda", noDevice: "" }] }))],
      "maps the root device /dev/xvda without an ebs block",
    );
  });

  it("accepts a root mapping (/dev/xvda or /dev/sda1) next to data volumes; skips unknowns", async () => {
    await assertClean(P, [
      res(LT, "a", goodLt()),
      res(LT, "b", goodLt({ blockDeviceMappings: [data, { deviceName: "/dev/sda1", ebs: { volumeType: "gp3" } }] })),
      res(LT, "c", goodLt({ blockDeviceMappings: UNKNOWN })),
      res(LT, "d", goodLt({ blockDeviceMappings: [data, UNKNOWN] })),
      res(LT, "e", goodLt({ blockDeviceMappings: [data, { deviceName: UNKNOWN, ebs: { volumeType: "gp3" } }] })),
      res(LT, "f", goodLt({ blockDeviceMappings: [{ deviceName: "/dev/xvda", ebs: UNKNOWN }] })),
    ]);
  });

  it("config: rootDeviceNames for AMIs with another root device name", async () => {
    const lt = res(LT, "lt", goodLt({ blockDeviceMappings: [{ ...data, deviceName: "/dev/nvme0n1" }] }));
    assert.equal((await messages(P, [lt])).length, 1);
    assert.deepEqual(await messages(P, [lt], { config: { [P]: { rootDeviceNames: ["/dev/nvme0n1"] } } }), []);
  });

  it("is not applicable to instances (rootBlockDevice is their root)", async () => {
    const i = res(INSTANCE, "i", goodInstance());
    assertNotApplicable(await runPolicy(P, [i]), P, /Policy only applies/, i.urn);
  });
});

describe("aws-ebs-volume-gp3", () => {
  const P = "aws-ebs-volume-gp3";

  it("flags gp2 / unset volume types everywhere", async () => {
    await assertViolates(
      P,
      [
        res(
          LT,
          "lt",
          goodLt({ blockDeviceMappings: [{ deviceName: "/dev/xvda", ebs: { volumeType: "gp2", encrypted: "true" } }] }),
        ),
      ],
      'blockDeviceMappings[0] (/dev/xvda).ebs has volumeType "gp2". Set volumeType: "gp3"',
    );
    await assertViolates(
      P,
      [res(INSTANCE, "i", goodInstance({ rootBlockDevice: { encrypted: true } }))],
      "rootBlockDevice has volumeType not set",
    );
    await assertViolates(P, [res(VOLUME, "v", { encrypted: true })], "this volume has type not set");
    await assertViolates(P, [res(VOLUME, "v", { type: "io2", encrypted: true })], '"io2"');
    await assertClean(P, [res(LT, "lt", goodLt({ blockDeviceMappings: [] }))]); // the root-volume policy's case
  });

  it("accepts gp3 and skips unknown types", async () => {
    await assertClean(P, [
      res(LT, "lt", goodLt()),
      res(INSTANCE, "i", goodInstance()),
      res(VOLUME, "v", { type: "gp3" }),
      res(VOLUME, "u", { type: UNKNOWN }),
    ]);
  });

  it("config: allowedVolumeTypes", async () => {
    const v = res(VOLUME, "v", { type: "io2", encrypted: true });
    assert.deepEqual(await messages(P, [v], { config: { [P]: { allowedVolumeTypes: ["gp3", "io2"] } } }), []);
  });

  it("is not applicable to other types", async () => {
    const q = res(QUEUE, "q", {});
    assertNotApplicable(await runPolicy(P, [q]), P, /Policy only applies/, q.urn);
  });
});
