import { strict as assert } from "node:assert";
import { METRIC } from "../../contract/metrics";
import { outputValue } from "../../testkit/pulumi-mocks";
import { useEphemeralRunners } from "./ephemeral-runners/harness";
import { named, REGION, rawConfig } from "./ledger-fixtures";

type DashboardModule = typeof import("../../program/ephemeral-runners/dashboard");

interface Series {
  expression?: string;
  id?: string;
  label?: string;
}

describe("RunnersDashboard", () => {
  const h = useEphemeralRunners();
  let dashboard: DashboardModule;
  before(async () => {
    dashboard = await import("../../program/ephemeral-runners/dashboard");
  });

  const spec = () => ({
    region: REGION,
    pools: ["linux-x64", "linux-arm64"],
    deadLetterQueues: { jobs: "runners-ingress-dev-jobs-dlq.fifo", reaper: "runners-reaper-dlq" },
  });
  const widgetsOf = (body: { widgets: Record<string, any>[] }) => body.widgets.map((w) => w.properties);
  const expressions = (properties: { metrics: unknown[][] }) =>
    properties.metrics.flatMap((m) => m.filter((x): x is Series => typeof x === "object" && x !== null));

  const plotted = (body: unknown) => {
    const json = JSON.stringify(body);
    assert.ok([...json.matchAll(/Namespace=\\"([^\\]+)\\"/g)].every((m) => m[1] === "cirunners"));
    return [...new Set([...json.matchAll(/MetricName=\\"([A-Za-z]+)\\"/g)].map((m) => m[1]))].sort();
  };
  const imageMetrics: string[] = [METRIC.runnerImageBuildsStarted, METRIC.runnerImageBuildStartFailures];

  it("plots every metric of the contract, in its namespace, and nothing else from it", () => {
    assert.deepEqual(plotted(dashboard.dashboardBody({ ...spec(), imageBuilds: true })), Object.values(METRIC).sort());
  });

  it("plots the runner image builds only when some pool is baked", () => {
    assert.deepEqual(
      plotted(dashboard.dashboardBody(spec())),
      Object.values(METRIC)
        .filter((m) => !imageMetrics.includes(m))
        .sort(),
    );
    const widget = widgetsOf(dashboard.dashboardBody({ ...spec(), imageBuilds: true })).find((w) =>
      w.title.startsWith("Runner image builds"),
    );
    assert.deepEqual(
      expressions(widget).map((s) => s.label),
      imageMetrics,
    );
  });

  it("draws one series per configured pool for each job metric, summed over the functions that emit it", () => {
    for (const title of ["Jobs queued", "Jobs launched", "Jobs started", "Jobs completed", "Jobs cancelled"]) {
      const widget = widgetsOf(dashboard.dashboardBody(spec())).find((w) => w.title === title);
      assert.ok(widget, title);
      const series = expressions(widget);
      assert.deepEqual(
        series.map((s) => s.label),
        ["linux-x64", "linux-arm64"],
      );
      for (const s of series) assert.match(s.expression ?? "", new RegExp(`^SUM\\(SEARCH\\('.* pool="${s.label}"'`));
    }
  });

  it("shows queue-to-start latency as p50 and p90 per pool", () => {
    const widget = widgetsOf(dashboard.dashboardBody(spec())).find((w) => w.title.startsWith("Queue to start"));
    assert.deepEqual(
      expressions(widget).map((s) => s.label),
      ["linux-x64 p50", "linux-x64 p90", "linux-arm64 p50", "linux-arm64 p90"],
    );
    assert.ok(expressions(widget).every((s) => s.expression?.includes(`MetricName="${METRIC.queueToStartSeconds}"`)));
  });

  it("shows each dead-letter queue's depth and uses unique expression ids in every widget", () => {
    const widgets = widgetsOf(dashboard.dashboardBody({ ...spec(), imageBuilds: true }));
    const dlq = widgets.find((w) => w.title.startsWith("Dead-letter"));
    assert.deepEqual(
      dlq.metrics.map((m: unknown[]) => m[3]),
      ["runners-ingress-dev-jobs-dlq.fifo", "runners-reaper-dlq"],
    );
    assert.ok(dlq.metrics.every((m: unknown[]) => m[1] === "ApproximateNumberOfMessagesVisible"));
    const ids = widgets.flatMap((w) => expressions(w).map((s) => s.id)).filter(Boolean);
    assert.equal(new Set(ids).size, ids.length);
    assert.ok(
      ids.every((id) => /^[a-z][a-z0-9_]*$/.test(id ?? "")),
      "CloudWatch ids start with a lowercase letter",
    );
    assert.ok(widgets.every((w) => w.region === REGION));
  });

  it("in EphemeralRunners: the dashboard names the config's pools and the job DLQ, the expiry alarm pages the topic", async () => {
    const topic = `arn:aws:sns:${REGION}:123456789012:alerts`;
    const { component, config, children } = await h.build("dash", rawConfig(), "dev", { alarmTopicArn: topic });
    const board = named(children, "aws:cloudwatch/dashboard:Dashboard", "dash-dashboard");
    assert.equal(board.inputs.dashboardName, "dash-dashboard-dev");
    const body = JSON.parse(board.inputs.dashboardBody);
    const launched = widgetsOf(body).find((w) => w.title === "Jobs launched");
    assert.deepEqual(
      expressions(launched).map((s) => s.label),
      config.runners.pools.map((p) => p.name),
    );
    const dlqName = await outputValue<string>(component.ingress.deadLetterQueue.name);
    const dlq = widgetsOf(body).find((w) => w.title.startsWith("Dead-letter"));
    assert.deepEqual(dlq.metrics[0].slice(0, 4), [
      "AWS/SQS",
      "ApproximateNumberOfMessagesVisible",
      "QueueName",
      dlqName,
    ]);

    const alarm = named(children, "aws:cloudwatch/metricAlarm:MetricAlarm", "dash-dashboard-jobs-expired").inputs;
    assert.equal(alarm.metricQueries[0].expression, `SELECT SUM(${METRIC.jobsExpired}) FROM "cirunners"`);
    assert.equal(alarm.metricQueries[0].period, 300);
    assert.equal(alarm.comparisonOperator, "GreaterThanThreshold");
    assert.equal(alarm.threshold, 0);
    assert.equal(alarm.treatMissingData, "notBreaching");
    assert.deepEqual(alarm.alarmActions, [topic]);
    assert.ok(
      !children.some((r) => r.name === "dash-dashboard-image-build-start-failures"),
      "no image pipelines, no alarm on starting them",
    );
  });

  it("with a baked pool: the alarm on image builds the runner cache failed to start pages the topic", async () => {
    const topic = `arn:aws:sns:${REGION}:123456789012:alerts`;
    const raw = rawConfig();
    const runners = raw.runners as { pools: Record<string, unknown>[] };
    const baked = {
      ...raw,
      runners: { ...runners, pools: [{ ...runners.pools[0], image: "baked" }, runners.pools[1]] },
    };
    const { component, children } = await h.build("baked-dash", baked, "dev", { alarmTopicArn: topic });
    const body = JSON.parse(
      named(children, "aws:cloudwatch/dashboard:Dashboard", "baked-dash-dashboard").inputs.dashboardBody,
    );
    assert.ok(widgetsOf(body).some((w) => w.title.startsWith("Runner image builds")));
    const alarm = named(
      children,
      "aws:cloudwatch/metricAlarm:MetricAlarm",
      "baked-dash-dashboard-image-build-start-failures",
    ).inputs;
    assert.equal(
      alarm.metricQueries[0].expression,
      `SELECT SUM(${METRIC.runnerImageBuildStartFailures}) FROM "cirunners"`,
    );
    assert.equal(alarm.metricQueries[0].period, 300);
    assert.equal(alarm.comparisonOperator, "GreaterThanThreshold");
    assert.equal(alarm.threshold, 0);
    assert.equal(alarm.treatMissingData, "notBreaching");
    assert.deepEqual(alarm.alarmActions, [topic]);
    assert.deepEqual(alarm.okActions, [topic]);
    assert.ok(component.dashboard.imageBuildStartFailuresAlarm);
  });
});
