/**
 * Ephemeral EC2 runners (in the spirit of CloudSnorkel/cdk-github-runners):
 *
 *   GitHub ──workflow_job──▶ WebhookIngress (API, webhook function, job queue)
 *                                 │ SQS, no delay
 *                                 ▼
 *                            Launcher ──JIT config──▶ SSM SecureString (tagged with the instance ARN)
 *                                 │ CreateFleet (instant, spot first)
 *                                 ▼
 *            instance from the pool's launch template (RunnerFleet): reads + deletes its JIT config, installs
 *            the runner from the S3 cache (RunnerCacheBucket), runs exactly one job, powers off (= terminates)
 *
 *   reaper (schedule)        terminates orphans, deregisters ghost runners, deletes leftover JIT configs
 *   runner-cache (schedule)  keeps the actions/runner tarballs in the cache bucket current; on a new version,
 *                            starts the baked-image pipelines of that architecture (program/runner-images)
 *   warm-pool (schedule)     keeps N idle runners per pool during configured hours (only if a pool asks)
 *
 * Files: ephemeral-runners.ts (the composition), ingress.ts + github-webhook.ts, runner-fleet.ts + user-data.ts
 * + pool-images.ts (which image each pool boots), runner-cache-bucket.ts + runner-cache-function.ts, launcher.ts,
 * function-environments.ts (what each function is told), policies.ts + launch-policies.ts (every IAM statement,
 * and the launch scope they are scoped to).
 */
export {
  EphemeralRunners,
  type EphemeralRunnersArgs,
  RUNNER_CACHE_SCHEDULE,
  WARM_POOL_SCHEDULE,
} from "./ephemeral-runners";
export { runtimePools } from "./function-environments";
export { WebhookIngress } from "./ingress";
export { Launcher } from "./launcher";
export { RunnerCacheBucket } from "./runner-cache-bucket";
export { defaultAmiParameter, launchTemplateImage } from "./pool-images";
export { RunnerFleet } from "./runner-fleet";
