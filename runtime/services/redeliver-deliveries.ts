/**
 * Failed-delivery recovery, one run: for each webhook the stack created (the organization's, or each configured
 * repository's), read its recent deliveries, let `planRedeliveries` choose, and ask GitHub to redeliver those.
 * A hook that cannot be read is reported and the others still run; one failed redelivery does not stop the rest.
 */
import { type RunnerScope, type RunnerTarget, runnerTargetsOf, targetKey } from "../../contract/runner-target.js";
import type { GitHubApp } from "../adapters/github/app-auth.js";
import { listDeliveriesSince, redeliver } from "../adapters/github/deliveries.js";
import { gitHubErrorReason } from "../adapters/github/errors.js";
import { type HookDelivery, planRedeliveries, type RedeliveryPolicy } from "../core/redeliver/select.js";
import type { Log } from "../shared/lambda.js";

export interface RedeliverSettings {
  scope: RunnerScope;
  owner: string;
  repositories: string[];
  /** Hook id per `targetKey`. */
  hookIds: Record<string, number>;
  policy: Omit<RedeliveryPolicy, "now">;
}

export interface RedeliverDependencies {
  github: GitHubApp;
  now: () => Date;
  log: Log;
}

export interface RedeliverReport {
  /** Deliveries GitHub accepted to redeliver. */
  redelivered: { target: string; hookId: number; deliveryId: number; guid: string }[];
  /** Targets or deliveries that failed, with a short reason; tried again on the next run. */
  failures: { target: string; deliveryId?: number; reason: string }[];
  /** Targets without a hook id in the settings (nothing to read). */
  missingHooks: string[];
}

/** The stack's targets paired with their hook ids (keys compared case-insensitively, as GitHub compares logins). */
export function hooksOf(settings: RedeliverSettings): { target: RunnerTarget; hookId: number | undefined }[] {
  const ids = new Map(Object.entries(settings.hookIds).map(([key, id]) => [key.toLowerCase(), id]));
  return runnerTargetsOf(settings.scope, settings.owner, settings.repositories).map((target) => ({
    target,
    hookId: ids.get(targetKey(target).toLowerCase()),
  }));
}

export async function redeliverFailedDeliveries(
  settings: RedeliverSettings,
  deps: RedeliverDependencies,
): Promise<RedeliverReport> {
  const report: RedeliverReport = { redelivered: [], failures: [], missingHooks: [] };
  const now = deps.now();
  for (const { target, hookId } of hooksOf(settings)) {
    const key = targetKey(target);
    if (hookId === undefined) {
      report.missingHooks.push(key);
      continue;
    }
    let deliveries: HookDelivery[];
    let client: Awaited<ReturnType<GitHubApp["clientFor"]>>;
    try {
      client = await deps.github.clientFor(target);
      deliveries = await listDeliveriesSince(
        client,
        target,
        hookId,
        new Date(now.getTime() - settings.policy.windowMs),
      );
    } catch (error) {
      report.failures.push({ target: key, reason: gitHubErrorReason(error) });
      deps.log.warn("could not list the webhook's deliveries", { target: key, hookId, error: String(error) });
      continue;
    }
    const plan = planRedeliveries(deliveries, { ...settings.policy, now });
    // Sequential: GitHub's secondary rate limits punish bursts of writes.
    for (const delivery of plan.redeliver) {
      try {
        await redeliver(client, target, hookId, delivery.id);
        report.redelivered.push({ target: key, hookId, deliveryId: delivery.id, guid: delivery.guid });
      } catch (error) {
        report.failures.push({ target: key, deliveryId: delivery.id, reason: gitHubErrorReason(error) });
        deps.log.warn("redelivery refused", { target: key, hookId, deliveryId: delivery.id, error: String(error) });
      }
    }
    deps.log.info("webhook deliveries checked", {
      target: key,
      hookId,
      deliveries: deliveries.length,
      redelivered: plan.redeliver.map((d) => ({ id: d.id, guid: d.guid, statusCode: d.statusCode })),
      skipped: countBy(plan.skipped.map((s) => s.reason)),
    });
  }
  return report;
}

function countBy(values: string[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const value of values) counts[value] = (counts[value] ?? 0) + 1;
  return counts;
}
