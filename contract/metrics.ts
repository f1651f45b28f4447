/**
 * The functions' CloudWatch metrics (Powertools EMF, namespace `METRICS_NAMESPACE`): the runtime emits them, the
 * program's dashboard and alarms read them. A name here is the only spelling of each.
 */
export const METRIC = {
  /** A job recorded as needing a runner (first `queued` delivery, or approval granted). Dimension: pool. */
  jobsQueued: "JobsQueued",
  /** A runner launched for a job (instance started, JIT runner registered). Dimension: pool. */
  jobsLaunched: "JobsLaunched",
  /** GitHub reported a job `in_progress` on one of our runners. Dimension: pool. */
  jobsStarted: "JobsStarted",
  /** A job completed after running. Dimension: pool. */
  jobsCompleted: "JobsCompleted",
  /** A job completed or cancelled before it ran. Dimension: pool. */
  jobsCancelled: "JobsCancelled",
  /** A job that got no runner within GitHub's 24-hour queue limit. Dimension: pool. */
  jobsExpired: "JobsExpired",
  /** Seconds from GitHub queueing a job to GitHub reporting it in progress. Dimension: pool. */
  queueToStartSeconds: "QueueToStartSeconds",
  /** A launch deferred because the pool is at `maxRunners`. Dimension: pool. */
  capacityWaits: "CapacityWaits",
  /** A launch that failed and will be retried with backoff. Dimension: pool. */
  launchFailures: "LaunchFailures",
  /** A job relaunched because another job took the runner launched for it. Dimension: pool. */
  compensations: "Compensations",
  /** Idle runners found whose job finished or was cancelled, ended by the reconciler. Dimension: pool. */
  idleRunnersEnded: "IdleRunnersEnded",
  /** Failed webhook deliveries asked to be redelivered. */
  redeliveries: "Redeliveries",
  /** A runner that exited before taking a job (reported by the bootstrap). Dimension: pool. */
  runnerStartFailures: "RunnerStartFailures",
  /** Baked runner image builds the runner-cache function started for a newly cached runner. No pool dimension. */
  runnerImageBuildsStarted: "RunnerImageBuildsStarted",
  /** Baked runner image builds the runner-cache function failed to start (retried at its next run). No pool dimension. */
  runnerImageBuildStartFailures: "RunnerImageBuildStartFailures",
  /** Milliseconds from a launch request's enqueueing to its fleet's launch (launcher). No pool dimension. */
  launchLatency: "LaunchLatency",
  /** Runner tarballs the runner-cache function stored (a new version, or a checksum that did not match). */
  runnerCacheUpdates: "RunnerCacheUpdates",
  /** Instances the reaper ended (ghosts, never registered, idle past maxJobHours). Dimension: reason. */
  reapedInstances: "ReapedInstances",
  /** Offline or idle runners the reaper removed from GitHub. */
  deregisteredRunners: "DeregisteredRunners",
  /** Left-over JIT config parameters the reaper deleted. */
  deletedRunnerParameters: "DeletedRunnerParameters",
} as const;

export type MetricName = (typeof METRIC)[keyof typeof METRIC];

/** The one dimension the job metrics carry. */
export const POOL_DIMENSION = "pool";
