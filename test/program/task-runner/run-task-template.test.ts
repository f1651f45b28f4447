import * as assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { parse as parseYaml } from "yaml";

describe("templates/run-task.yml", () => {
  const workflow = parseYaml(readFileSync(path.resolve(__dirname, "../../../templates/run-task.yml"), "utf8"));

  it("asks for an OIDC token and nothing more", () => {
    assert.deepEqual(workflow.permissions, { "id-token": "write", contents: "read" });
  });

  it("builds and pushes the commit SHA tag with the deploy role in each stack (the run step: test/tools/templates.test.ts)", () => {
    const jobs = Object.entries(workflow.jobs) as [string, any][];
    assert.deepEqual(
      jobs.map(([id]) => id),
      ["migrate-dev", "migrate-prod"],
    );
    assert.equal(workflow.jobs["migrate-prod"].environment, "production");
    assert.equal(
      workflow.jobs["migrate-dev"].environment,
      undefined,
      "a job with an environment gets the environment subject",
    );
    for (const [id, job] of jobs) {
      const stack = id === "migrate-dev" ? "DEV" : "PROD";
      const uses = job.steps.map((s: any) => s.uses).filter(Boolean);
      for (const u of uses) assert.match(u, /@[0-9a-f]{40}$/, `${id}: ${u} pinned to a commit SHA`);
      const credentials = job.steps.find((s: any) =>
        String(s.uses).startsWith("aws-actions/configure-aws-credentials@"),
      );
      assert.equal(credentials.with["role-to-assume"], `\${{ vars.CIRUNNERS_DB_MIGRATE_${stack}_ROLE_ARN }}`);
      assert.equal(credentials.with["aws-region"], `\${{ vars.CIRUNNERS_DB_MIGRATE_${stack}_REGION }}`);
      assert.ok(job.steps.some((s: any) => String(s.uses).startsWith("aws-actions/amazon-ecr-login@")));
      const push = job.steps.find((s: any) => typeof s.run === "string" && s.run.includes("docker push"));
      assert.match(push.run, /docker push "\$IMAGE"/);
      assert.match(
        push.env.IMAGE,
        new RegExp(
          `^\\$\\{\\{ vars\\.CIRUNNERS_DB_MIGRATE_${stack}_ECR_REPOSITORY \\}\\}:\\$\\{\\{ github\\.sha \\}\\}$`,
        ),
      );
    }
  });
});
