/**
 * The runner image pipeline's name rule (contract/names.ts): the program names each pipeline, and computes its ARN
 * for the runner-cache function, by `runnerImagePipelineName`; the function reads the architecture back with
 * `pipelineArchitecture`. One rule, so the round trip holds for every stack name Pulumi allows.
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import { imagePipelineArn } from "../../contract/arn";
import { type Architecture, pipelineArchitecture, runnerImagePipelineName } from "../../contract/names";

const where = { partition: "aws", region: "eu-west-1", account: "123456789012" };
const arnOf = (name: string) => `arn:aws:imagebuilder:eu-west-1:123456789012:image-pipeline/${name}`;

describe("contract: runner image pipeline names", () => {
  it("reads back the architecture of every stack's pipeline, from its (lower-cased) ARN", () => {
    fc.assert(
      fc.property(
        // Pulumi stack names: letters, digits, hyphens, underscores and periods.
        fc.stringMatching(/^[A-Za-z0-9_.-]{1,40}$/),
        fc.constantFrom<Architecture>("x64", "arm64"),
        (stack, architecture) => {
          const arn = imagePipelineArn(where, runnerImagePipelineName(stack, architecture));
          assert.equal(pipelineArchitecture(arn), architecture);
        },
      ),
    );
    assert.equal(runnerImagePipelineName("prod", "arm64"), "cirunners-prod-runner-arm64");
  });

  it("refuses what is not a runner image pipeline", () => {
    assert.equal(pipelineArchitecture(arnOf("cirunners-prod-runner-x64-extra")), undefined);
    assert.equal(pipelineArchitecture(arnOf("cirunners-prod-runner-riscv")), undefined);
    assert.equal(pipelineArchitecture(arnOf("someone-elses-pipeline")), undefined);
    assert.equal(
      pipelineArchitecture("arn:aws:imagebuilder:eu-west-1:123456789012:image-recipe/x-runner-x64"),
      undefined,
    );
  });
});
