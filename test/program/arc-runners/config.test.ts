import { strict as assert } from "node:assert";
import { ArcConfigError, parseArcConfig } from "../../../program/arc-runners/config";
import { prodArc } from "./fixtures";

/** The problems `parseArcConfig` reports for `raw`. */
function problemsOf(raw: unknown): string[] {
  try {
    parseArcConfig(raw);
  } catch (error) {
    assert.ok(error instanceof ArcConfigError, `expected an ArcConfigError, got ${String(error)}`);
    return error.problems;
  }
  assert.fail("expected the configuration to be rejected");
}

function withChanges(change: (arc: any) => void): unknown {
  const arc = structuredClone(prodArc()) as any;
  change(arc);
  return arc;
}

describe("ARC config (cirunners:arc)", () => {
  it("accepts the prod example and fills the defaults", () => {
    const arc = parseArcConfig(prodArc());
    assert.equal(arc.architecture, "x64");
    assert.equal(arc.logRetentionDays, 30);
    assert.equal(arc.runnerImage, "ghcr.io/actions/actions-runner:latest");
    assert.deepEqual(arc.system, { nodes: 2 });
    assert.deepEqual(
      arc.scaleSets.map((s) => [s.name, s.sizeClass, s.minRunners, s.maxRunners]),
      [
        ["arc-linux", "default", 0, 30],
        ["arc-linux-cpu", "cpu-heavy", 1, 10],
      ],
    );
    assert.ok("version" in arc.cluster);
    assert.deepEqual(arc.cluster.logTypes, ["api", "audit", "authenticator"]);
  });

  it("accepts an existing cluster by name", () => {
    const arc = parseArcConfig(withChanges((a) => (a.cluster = { existingName: "prod-eu-west-1" })));
    assert.deepEqual(arc.cluster, { existingName: "prod-eu-west-1" });
  });

  it("refuses a public endpoint open to the whole internet, naming the entry", () => {
    const problems = problemsOf(withChanges((a) => (a.cluster.publicAccessCidrs = ["10.0.0.0/8", "0.0.0.0/0"])));
    assert.equal(problems.length, 1);
    assert.match(problems[0], /^cirunners:arc\.cluster\.publicAccessCidrs\[1\]: a \/0 block opens the API server/);
  });

  it("refuses an empty list of public CIDRs (omit the key for a private endpoint)", () => {
    const problems = problemsOf(withChanges((a) => (a.cluster.publicAccessCidrs = [])));
    assert.match(problems.join("\n"), /cirunners:arc\.cluster\.publicAccessCidrs: expected at least one CIDR/);
  });

  it("names a duplicate scale set and minRunners above maxRunners", () => {
    const problems = problemsOf(
      withChanges((a) => {
        a.scaleSets[1].name = "arc-linux";
        a.scaleSets[0].minRunners = 40;
      }),
    );
    assert.deepEqual(problems.sort(), [
      "cirunners:arc.scaleSets[0].minRunners: expected at most maxRunners (30), found 40",
      'cirunners:arc.scaleSets[1].name: duplicate scale set name (also scaleSets[0]), found "arc-linux"',
    ]);
  });

  it("refuses a scale set name the chart would reject (over 45 characters)", () => {
    const problems = problemsOf(withChanges((a) => (a.scaleSets[0].name = `arc-${"x".repeat(42)}`)));
    assert.match(problems[0], /^cirunners:arc\.scaleSets\[0\]\.name: expected a lower-case name of at most 45/);
  });

  it("refuses a chart version range: versions are pinned", () => {
    const problems = problemsOf(withChanges((a) => (a.charts.arc = "^0.14")));
    assert.deepEqual(problems, [
      'cirunners:arc.charts.arc: expected an exact chart version like 0.14.2 (no range), found "^0.14"',
    ]);
  });

  it("needs the chart versions", () => {
    const problems = problemsOf(withChanges((a) => delete a.charts));
    assert.deepEqual(problems, ["cirunners:arc.charts: expected object, found nothing"]);
  });

  it("ties the autoscaler image to the cluster's Kubernetes minor", () => {
    const problems = problemsOf(withChanges((a) => (a.charts.clusterAutoscalerImage = "v1.35.0")));
    assert.deepEqual(problems, [
      'cirunners:arc.charts.clusterAutoscalerImage: expected a 1.33.x tag to match cluster.version, found "v1.35.0"',
    ]);
  });

  it("refuses instance types of the other architecture, naming the entry", () => {
    const problems = problemsOf(
      withChanges((a) => (a.sizeClasses = { "memory-heavy": { instanceTypes: ["r7i.xlarge", "r7g.xlarge"] } })),
    );
    assert.deepEqual(problems, [
      'cirunners:arc.sizeClasses.memory-heavy.instanceTypes[1]: instance type is arm64 but architecture is x64, found "r7g.xlarge"',
    ]);
  });

  it("asks for at least two instance types per size class (spot diversification)", () => {
    const problems = problemsOf(withChanges((a) => (a.sizeClasses = { default: { instanceTypes: ["m7i.xlarge"] } })));
    assert.match(
      problems[0],
      /^cirunners:arc\.sizeClasses\.default\.instanceTypes: expected at least two instance types/,
    );
  });

  it("names unknown keys, in the cluster too", () => {
    assert.deepEqual(problemsOf(withChanges((a) => (a.scaleSet = []))), [
      "cirunners:arc.scaleSet: unknown key (check its spelling)",
    ]);
    const problems = problemsOf(withChanges((a) => (a.cluster = { existingName: "prod", version: "1.33" })));
    assert.equal(problems.length, 1);
    assert.match(problems[0], /^cirunners:arc\.cluster\.(version|existingName): unknown key/);
  });

  it("refuses an unknown size class and a CloudWatch retention CloudWatch does not offer", () => {
    const problems = problemsOf(
      withChanges((a) => {
        a.scaleSets[0].sizeClass = "gpu";
        a.logRetentionDays = 45;
      }),
    );
    assert.equal(problems.length, 2);
    assert.match(problems.join("\n"), /cirunners:arc\.scaleSets\[0\]\.sizeClass: /);
    assert.match(
      problems.join("\n"),
      /cirunners:arc\.logRetentionDays: expected one of CloudWatch's retention periods/,
    );
  });
});
