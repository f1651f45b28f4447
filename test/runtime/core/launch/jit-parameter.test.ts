import assert from "node:assert/strict";
import { TAG } from "../../../../contract/names.js";
import { jitParameter } from "../../../../runtime/core/launch/jit-parameter.js";

describe("core/launch: jitParameter", () => {
  it("names the parameter by instance and tags it with the instance's ARN, the stack and the pool", () => {
    const place = {
      stack: "dev",
      location: { region: "eu-west-1", account: "123456789012", partition: "aws" },
      parameterPrefix: "/cir/dev/runners",
    };
    const parameter = jitParameter(place, "linux", "i-0abc", {
      runnerName: "linux-7-abc123",
      encodedJitConfig: "e30=",
    });
    assert.equal(parameter.value, "e30=");
    assert.match(parameter.name, /i-0abc/);
    assert.equal(parameter.description, "JIT config of runner linux-7-abc123");
    const tags = Object.fromEntries(parameter.tags.map((t) => [t.Key, t.Value]));
    assert.equal(tags[TAG.instanceArn], "arn:aws:ec2:eu-west-1:123456789012:instance/i-0abc");
    assert.deepEqual([tags[TAG.stack], tags[TAG.pool]], ["dev", "linux"]);
  });
});
