/**
 * The offline preview of the real stack files, run as users run it (`npm run preview -- --stack <name> --json`) in
 * a child process, so its mocks do not mix with this process's.
 */
import { strict as assert } from "node:assert";
import { execFileSync } from "node:child_process";
import * as path from "node:path";

interface Preview {
  resources: { type: string; name: string }[];
  violations: { policy: string; enforcementLevel: string; type: string; name: string }[];
}

const ROOT = path.resolve(__dirname, "..", "..");

function preview(stack: string): Preview {
  let stdout: string;
  try {
    stdout = execFileSync(process.execPath, ["--import", "tsx", "tools/preview.ts", "--stack", stack, "--json"], {
      cwd: ROOT,
      encoding: "utf8",
      stdio: ["ignore", "pipe", "ignore"],
      maxBuffer: 64 * 1024 * 1024,
    });
  } catch (error) {
    // Exit 1 = mandatory violations: the report is still on stdout.
    stdout = (error as { stdout?: string }).stdout ?? "";
  }
  return JSON.parse(stdout) as Preview;
}

describe("stack previews", () => {
  let prod: Preview;
  let dev: Preview;
  before(function () {
    this.timeout(180_000);
    prod = preview("prod");
    dev = preview("dev");
  });

  const count = (p: Preview, type: string) => p.resources.filter((r) => r.type === type).length;

  it("prod shows the ARC cluster, its node groups and the Helm releases (controller, two scale sets, autoscaler)", () => {
    assert.equal(count(prod, "cirunners:index:ArcRunners"), 1);
    assert.equal(count(prod, "aws:eks/cluster:Cluster"), 1);
    assert.equal(count(prod, "aws:eks/nodeGroup:NodeGroup"), 3, "system + one spot group per size class");
    const releases = prod.resources.filter((r) => r.type === "kubernetes:helm.sh/v3:Release").map((r) => r.name);
    assert.deepEqual(releases.sort(), [
      "arc-arc-linux",
      "arc-arc-linux-cpu",
      "arc-capacity-autoscaler",
      "arc-controller",
    ]);
  });

  it("dev has no ARC resources", () => {
    assert.equal(count(dev, "cirunners:index:ArcRunners"), 0);
    assert.ok(dev.resources.every((r) => !r.type.startsWith("kubernetes:")));
  });

  it("both stacks have the ledger table, the dashboard and the expiry alarm", () => {
    for (const p of [dev, prod]) {
      assert.equal(count(p, "aws:dynamodb/table:Table"), 1);
      assert.equal(count(p, "aws:cloudwatch/dashboard:Dashboard"), 1);
      assert.ok(p.resources.some((r) => r.name === "runners-dashboard-jobs-expired"));
    }
  });

  it("the ledger, dashboard and reconciliation resources break no policy of the pack", () => {
    const ours = /^runners-(ledger|dashboard|jobs-)/;
    for (const p of [dev, prod]) {
      assert.deepEqual(
        p.violations.filter((v) => ours.test(v.name)),
        [],
      );
    }
  });

  it("dev passes the pack with no mandatory violation", () => {
    assert.deepEqual(
      dev.violations.filter((v) => v.enforcementLevel === "mandatory"),
      [],
    );
  });
});
