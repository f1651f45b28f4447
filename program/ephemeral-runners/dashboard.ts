/**
 * The ephemeral runners' CloudWatch dashboard, the alarm on expired jobs and, with baked pools, the alarm on image
 * builds the runner-cache function failed to start. Metric names, the `pool` dimension and
 * the namespace are the contract's (`contract/metrics.ts`, `METRICS_NAMESPACE`), the spelling the runtime emits.
 *
 * The functions emit through Powertools, which adds its own `service` dimension (the emitting function) next to
 * `pool`, and some metrics come from more than one function (the launcher and the reconciler both launch). So the
 * widgets find series with SEARCH on the namespace, the name and the pool value, whatever other dimensions ride
 * along, and add them up per pool.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { METRIC, type MetricName, POOL_DIMENSION } from "../../contract/metrics";
import { METRICS_NAMESPACE } from "../../contract/names";

/** Granularity of every widget and of the expiry alarm (seconds). */
export const DASHBOARD_PERIOD = 300;

/** What the dashboard plots. */
export interface DashboardSpec {
  region: string;
  /** Pool names from the stack configuration: one series each. */
  pools: readonly string[];
  /** Queues whose depth is shown: the job queue's dead-letter queue first, then the housekeeping functions'. */
  deadLetterQueues: Readonly<Record<string, string>>;
  /**
   * Some pool has `image: baked`: plot the image builds the runner-cache function starts.
   * @default false
   */
  imageBuilds?: boolean;
}

type Widget = Record<string, unknown>;

/** SEARCH for a metric of the namespace; `pool` narrows it to one pool's series. */
export function searchExpression(metric: MetricName, stat: string, pool?: string): string {
  const filters = [`Namespace="${METRICS_NAMESPACE}"`, `MetricName="${metric}"`];
  if (pool !== undefined) filters.push(`${POOL_DIMENSION}="${pool}"`);
  return `SEARCH('${filters.join(" ")}', '${stat}', ${DASHBOARD_PERIOD})`;
}

const id = (...parts: string[]) =>
  parts
    .join("_")
    .replace(/[^A-Za-z0-9_]/g, "_")
    .toLowerCase();

function timeSeries(spec: DashboardSpec, title: string, metrics: unknown[][], unit = "Count"): Widget {
  return {
    type: "metric",
    width: 8,
    height: 6,
    properties: {
      title,
      region: spec.region,
      view: "timeSeries",
      stacked: false,
      period: DASHBOARD_PERIOD,
      metrics,
      yAxis: { left: { min: 0, label: unit, showUnits: false } },
    },
  };
}

/** One line per pool: the metric's sum over every function that emits it for that pool. */
function perPool(spec: DashboardSpec, title: string, metric: MetricName): Widget {
  return timeSeries(
    spec,
    title,
    spec.pools.map((pool) => [
      { expression: `SUM(${searchExpression(metric, "Sum", pool)})`, id: id(metric, pool), label: pool },
    ]),
  );
}

/** Several metrics on one widget, each summed over all pools. */
function totals(spec: DashboardSpec, title: string, metrics: readonly MetricName[]): Widget {
  return timeSeries(
    spec,
    title,
    metrics.map((metric) => [{ expression: `SUM(${searchExpression(metric, "Sum")})`, id: id(metric), label: metric }]),
  );
}

/** Queue-to-start latency percentiles per pool: percentiles cannot be added up, so each series stays as found. */
function latency(spec: DashboardSpec): Widget {
  const metrics = spec.pools.flatMap((pool) =>
    ["p50", "p90"].map((stat) => [
      {
        expression: searchExpression(METRIC.queueToStartSeconds, stat, pool),
        id: id("latency", pool, stat),
        label: `${pool} ${stat}`,
      },
    ]),
  );
  return timeSeries(spec, "Queue to start (seconds)", metrics, "Seconds");
}

/** Enqueue-to-fleet-launch latency of the launcher (one series: it has no pool dimension). */
function launchLatency(spec: DashboardSpec): Widget {
  const metrics = ["p50", "p99"].map((stat) => [
    { expression: searchExpression(METRIC.launchLatency, stat), id: id("launch_latency", stat), label: stat },
  ]);
  return timeSeries(spec, "Launch request to fleet launch (ms)", metrics, "Milliseconds");
}

function deadLetterDepth(spec: DashboardSpec): Widget {
  return timeSeries(
    spec,
    "Dead-letter queues (messages)",
    Object.entries(spec.deadLetterQueues).map(([label, queueName]) => [
      "AWS/SQS",
      "ApproximateNumberOfMessagesVisible",
      "QueueName",
      queueName,
      { stat: "Maximum", label },
    ]),
  );
}

/** The dashboard document (CloudWatch's dashboard body structure). */
export function dashboardBody(spec: DashboardSpec): { widgets: Widget[] } {
  return {
    widgets: [
      perPool(spec, "Jobs queued", METRIC.jobsQueued),
      perPool(spec, "Jobs launched", METRIC.jobsLaunched),
      perPool(spec, "Jobs started", METRIC.jobsStarted),
      perPool(spec, "Jobs completed", METRIC.jobsCompleted),
      perPool(spec, "Jobs cancelled", METRIC.jobsCancelled),
      perPool(spec, "Jobs expired (no runner in 24 h)", METRIC.jobsExpired),
      latency(spec),
      perPool(spec, "Capacity waits (pool at maxRunners)", METRIC.capacityWaits),
      perPool(spec, "Launch failures", METRIC.launchFailures),
      perPool(spec, "Compensations (runner taken by another job)", METRIC.compensations),
      perPool(spec, "Idle runners ended", METRIC.idleRunnersEnded),
      perPool(spec, "Runners that exited before a job", METRIC.runnerStartFailures),
      launchLatency(spec),
      totals(spec, "Webhook redeliveries", [METRIC.redeliveries]),
      totals(spec, "Housekeeping (reaper, runner cache)", [
        METRIC.reapedInstances,
        METRIC.deregisteredRunners,
        METRIC.deletedRunnerParameters,
        METRIC.runnerCacheUpdates,
      ]),
      ...(spec.imageBuilds
        ? [
            totals(spec, "Runner image builds (started by the runner cache)", [
              METRIC.runnerImageBuildsStarted,
              METRIC.runnerImageBuildStartFailures,
            ]),
          ]
        : []),
      deadLetterDepth(spec),
    ],
  };
}

/**
 * Metrics Insights query for an alarm on a contract metric: alarms cannot use SEARCH, and a query without a SCHEMA
 * clause sums the metric over every dimension set, so the alarm holds whatever function emits it (with its
 * `service` dimension) and whatever pools exist.
 */
export function sumQuery(metric: MetricName): string {
  return `SELECT SUM(${metric}) FROM "${METRICS_NAMESPACE}"`;
}

export const EXPIRED_JOBS_QUERY = sumQuery(METRIC.jobsExpired);
export const IMAGE_BUILD_START_FAILURES_QUERY = sumQuery(METRIC.runnerImageBuildStartFailures);

export interface RunnersDashboardArgs {
  /** Stack name: part of the dashboard's name. */
  readonly stack: string;
  readonly region: pulumi.Input<string>;
  /** Pool names from the stack configuration. */
  readonly pools: readonly string[];
  /** Dead-letter queue names by label; the job queue's first. */
  readonly deadLetterQueues: Readonly<Record<string, pulumi.Input<string>>>;
  /**
   * Some pool has `image: baked`: plot the runner-cache function's image builds and alarm on failed starts.
   * @default false
   */
  readonly imageBuilds?: boolean;
  /**
   * SNS topic for the alarms.
   * @default no alarm actions
   */
  readonly alarmTopicArn?: string;
  /**
   * Tags for the alarm (dashboards take none).
   * @default no tags
   */
  readonly tags?: Record<string, string>;
}

export class RunnersDashboard extends pulumi.ComponentResource {
  public readonly dashboard: aws.cloudwatch.Dashboard;
  /** Fires when a job got no runner within GitHub's 24-hour queue limit: its workflow failed for want of one. */
  public readonly expiredJobsAlarm: aws.cloudwatch.MetricAlarm;
  /**
   * With baked pools: fires when the runner-cache function failed to start an image build, so the baked images lag
   * behind the cached runner until its next run starts it.
   */
  public readonly imageBuildStartFailuresAlarm?: aws.cloudwatch.MetricAlarm;

  constructor(name: string, args: RunnersDashboardArgs, opts?: pulumi.ComponentResourceOptions) {
    super("cirunners:index:RunnersDashboard", name, {}, opts);
    const parent = { parent: this };

    this.dashboard = new aws.cloudwatch.Dashboard(
      name,
      {
        dashboardName: `${name}-${args.stack}`,
        dashboardBody: pulumi
          .all([args.region, pulumi.all(args.deadLetterQueues)])
          .apply(([region, deadLetterQueues]) =>
            JSON.stringify(
              dashboardBody({ region, pools: args.pools, deadLetterQueues, imageBuilds: args.imageBuilds }),
            ),
          ),
      },
      parent,
    );

    const alarmActions = args.alarmTopicArn ? [args.alarmTopicArn] : [];
    // The query ids ("expired", "failed") are kept as first deployed, so existing alarms see no diff.
    const alarm = (suffix: string, alarmDescription: string, id: string, expression: string) =>
      new aws.cloudwatch.MetricAlarm(
        `${name}-${suffix}`,
        {
          alarmDescription,
          metricQueries: [{ id, expression, period: DASHBOARD_PERIOD, returnData: true }],
          evaluationPeriods: 1,
          threshold: 0,
          comparisonOperator: "GreaterThanThreshold",
          // No data means none happened (or the function emitting the metric did not run).
          treatMissingData: "notBreaching",
          alarmActions,
          okActions: alarmActions,
          tags: args.tags,
        },
        parent,
      );
    this.expiredJobsAlarm = alarm(
      "jobs-expired",
      `Jobs of stack ${args.stack} got no runner within GitHub's 24-hour queue limit and failed: check capacity waits, launch failures and the dead-letter queue on the dashboard.`,
      "expired",
      EXPIRED_JOBS_QUERY,
    );
    if (args.imageBuilds) {
      this.imageBuildStartFailuresAlarm = alarm(
        "image-build-start-failures",
        `The runner-cache function of stack ${args.stack} failed to start a baked runner image build: the baked images lag behind the cached runner until its next scheduled run starts it. Check the function's log and the image pipelines (docs/runner-images.md).`,
        "failed",
        IMAGE_BUILD_START_FAILURES_QUERY,
      );
    }

    this.registerOutputs({ dashboardName: this.dashboard.dashboardName });
  }
}
