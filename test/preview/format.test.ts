import * as assert from "node:assert/strict";
import type { PreviewViolation } from "../../tools/preview/engine";
import { DEFAULT_WIDTH, displayType, renderLine, styleFor, wrap } from "../../tools/preview/format";
import { renderOutputs, renderViolation } from "../../tools/preview/report";

const plain = (width: number) => ({ color: false, width });

describe("preview formatting", () => {
  describe("styleFor", () => {
    it("colours a terminal and uses its width", () => {
      assert.deepEqual(styleFor({ isTTY: true, columns: 90 }, {}), { color: true, width: 90 });
    });

    it("honours NO_COLOR and TERM=dumb on a terminal", () => {
      assert.equal(styleFor({ isTTY: true, columns: 90 }, { NO_COLOR: "1" }).color, false);
      assert.equal(styleFor({ isTTY: true, columns: 90 }, { TERM: "dumb" }).color, false);
      assert.equal(styleFor({ isTTY: true, columns: 90 }, { NO_COLOR: "" }).color, true, "an empty NO_COLOR is unset");
    });

    it("assumes 120 columns and no colour on a pipe", () => {
      assert.deepEqual(styleFor({ isTTY: false }, {}), { color: false, width: DEFAULT_WIDTH });
      assert.deepEqual(styleFor({}, {}), { color: false, width: 120 });
    });
  });

  describe("renderLine", () => {
    it("cuts a line to the width with an ellipsis, counting box-drawing characters as one column", () => {
      const line = renderLine([["│  ├─ "], ["x".repeat(100)]], plain(40));
      assert.equal([...line].length, 40);
      assert.ok(line.endsWith("…"));
    });

    it("leaves a short line alone and colours only with colour on", () => {
      assert.equal(renderLine([["+ ", "green"], ["vpc"]], plain(40)), "+ vpc");
      assert.equal(renderLine([["+ ", "green"], ["vpc"]], { color: true, width: 40 }), "\u001b[32m+ \u001b[39mvpc");
    });
  });

  describe("wrap", () => {
    it("wraps at word boundaries under the indent", () => {
      const lines = wrap("one two three four five six", 17, "   ");
      assert.deepEqual(lines, ["   one two three", "   four five six"]);
    });

    it("breaks a word longer than the line instead of overflowing", () => {
      const lines = wrap(`see ${"a".repeat(25)}`, 12);
      assert.ok(
        lines.every((l) => l.length <= 12),
        JSON.stringify(lines),
      );
      assert.equal(lines.join("").replace(/\s/g, ""), `see${"a".repeat(25)}`);
    });

    it("keeps the message's own line breaks", () => {
      assert.deepEqual(wrap("first\nsecond", 80), ["first", "second"]);
    });
  });

  it("shortens type tokens as pulumi preview does, and only when the module repeats the type", () => {
    assert.equal(displayType("aws:ec2/vpcEndpoint:VpcEndpoint"), "aws:ec2:VpcEndpoint");
    assert.equal(displayType("aws:iam/role:Role"), "aws:iam:Role");
    assert.equal(
      displayType("github:index/organizationWebhook:OrganizationWebhook"),
      "github:index:OrganizationWebhook",
    );
    assert.equal(displayType("cirunners:index:RunnerNetwork"), "cirunners:index:RunnerNetwork");
    assert.equal(displayType("aws:ec2/vpc:Subnet"), "aws:ec2/vpc:Subnet");
  });

  it("wraps a violation's long message to the width", () => {
    const violation: PreviewViolation = {
      policy: "aws-ebs-volume-gp3",
      enforcementLevel: "mandatory",
      type: "aws:ec2/launchTemplate:LaunchTemplate",
      name: "careless",
      message: "word ".repeat(120).trim(),
    };
    const lines = renderViolation(violation, plain(60));
    assert.ok(lines.length > 8);
    assert.ok(
      lines.every((l) => [...l].length <= 60),
      lines.join("\n"),
    );
    assert.match(lines[1], /aws:ec2:LaunchTemplate careless/);
  });

  it("prints stack outputs as JSON values, unknown ones said so", () => {
    const lines = renderOutputs(
      { vpcId: "vpc-1", codebuildProjects: [{ region: "eu-west-1" }], webhookUrl: undefined },
      plain(80),
    );
    assert.deepEqual(lines, [
      "Outputs:",
      '    codebuildProjects  [{"region":"eu-west-1"}]',
      '    vpcId              "vpc-1"',
      "    webhookUrl         [unknown until deployed]",
      "",
    ]);
    assert.deepEqual(renderOutputs({}, plain(80)), []);
  });
});
