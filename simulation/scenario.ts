/**
 * The default scenario of `npm run simulate`: a few queued jobs for the stack's pools, a redelivered duplicate,
 * a delivery with a bad signature, a job whose labels no pool serves, and one instance that never comes online
 * and is reaped.
 */
import { ENV } from "../contract/names";
import { workflowJobDelivery, type Delivery } from "./deliveries";
import type { DeliveryRecord, Pipeline } from "./pipeline";
import { attributeDeliveries, gitHubCallRows, table, type DeliveryOutcome } from "./report";

export interface ScenarioResult {
  outcomes: DeliveryOutcome[];
  reaper: Array<{ terminated: number; deregistered: number; deletedParameters: number }>;
  final: {
    liveInstances: number;
    runnerParameters: number;
    jobQueue: number;
    deadLetterQueue: number;
    runners: number;
  };
}

function poolsOf(pipeline: Pipeline): Array<{ name: string; labels: string[] }> {
  return JSON.parse(pipeline.environments.webhook.environment[ENV.pools]) as Array<{ name: string; labels: string[] }>;
}

/** The scenario's deliveries: jobs per pool (the `self-hosted, linux, x64` pool first), a duplicate, bad input. */
export function scenarioDeliveries(pipeline: Pipeline): { deliveries: Delivery[]; hungJobId: number } {
  const owner = pipeline.environments.launcher.environment[ENV.githubOwner];
  const pools = poolsOf(pipeline);
  const x64 =
    pools.find(
      (p) =>
        p.labels
          .map((l) => l.toLowerCase())
          .sort()
          .join(",") === "linux,self-hosted,x64",
    ) ?? pools[0];
  const others = pools.filter((p) => p !== x64);
  const secret = pipeline.webhookSecret;
  const job = (
    jobId: number,
    labels: string[],
    name: string,
    extra: Parameters<typeof workflowJobDelivery>[2] = {},
  ) => {
    // The job exists on GitHub (the stand-in assigns it to a runner); its deliveries are made by hand here.
    if (!pipeline.github.jobs.has(jobId))
      pipeline.github.createJob({ id: jobId, owner, repository: "orders-service", labels, deliver: false });
    // Organization-webhook deliveries, like the webhook the stack creates: no installation in the payload.
    return workflowJobDelivery({ jobId, labels, owner, repository: "orders-service" }, secret, { name, ...extra });
  };

  const first = job(1001, x64.labels, `job 1001 [${x64.labels.join(", ")}]`);
  const hungJobId = 1004;
  const deliveries: Delivery[] = [
    first,
    job(
      1002,
      x64.labels.map((l) => l.toUpperCase()),
      `job 1002 [${x64.labels.map((l) => l.toUpperCase()).join(", ")}] (labels match case-insensitively)`,
    ),
    ...others.map((pool, i) => job(1003 + i * 10, pool.labels, `job ${1003 + i * 10} [${pool.labels.join(", ")}]`)),
    { ...first, name: "redelivery of job 1001 (same X-GitHub-Delivery)" },
    job(hungJobId, x64.labels, `job ${hungJobId} [${x64.labels.join(", ")}] (its instance will never come online)`),
    job(1005, x64.labels, "job 1005 with a bad signature", { signature: "wrong" }),
    job(1006, ["self-hosted", "linux", "gpu"], "job 1006 [self-hosted, linux, gpu] (no pool serves these labels)"),
  ];
  return { deliveries, hungJobId };
}

export async function runDefaultScenario(pipeline: Pipeline, say: (line: string) => void): Promise<ScenarioResult> {
  const { deliveries, hungJobId } = scenarioDeliveries(pipeline);
  pipeline.hangJobs([hungJobId]);

  say("\n== 1. GitHub delivers the webhooks");
  const records: DeliveryRecord[] = [];
  for (const delivery of deliveries) {
    const record = await pipeline.deliver(delivery);
    records.push(record);
    let message = record.responseBody;
    try {
      message = String((JSON.parse(record.responseBody) as { message?: string }).message ?? record.responseBody);
    } catch {
      // not JSON
    }
    say(`  → ${delivery.name}: HTTP ${record.status} ${message} (${record.handlerMs.toFixed(1)} ms in the handler)`);
  }

  say("\n== 2. The launcher drains the queue; instances boot, run their job and power off");
  await pipeline.waitForIdle(60_000);

  say("\n== 3. The reaper runs (boot grace shortened for the simulation)");
  const hung = [...pipeline.instances.values()].find((i) => i.jobId === hungJobId);
  const graceMs = Number(pipeline.environments.reaper.environment[ENV.bootGraceMinutes]) * 60_000;
  if (hung) {
    const wait = hung.launchedAt + graceMs + 1500 - Date.now();
    if (wait > 0) {
      say(`  waiting ${(wait / 1000).toFixed(1)} s until ${hung.instanceId} is past its boot grace`);
      await new Promise((resolve) => setTimeout(resolve, wait));
    }
  }
  const reaper = [];
  const first = await pipeline.runReaper();
  reaper.push(first);
  say(
    `  reaper run 1: terminated ${first.terminated} instance(s), removed ${first.deregistered} offline runner(s), deleted ${first.deletedParameters} parameter(s)`,
  );
  const second = await pipeline.runReaper();
  reaper.push(second);
  say(
    `  reaper run 2 (the next schedule): terminated ${second.terminated}, removed ${second.deregistered} runner(s), deleted ${second.deletedParameters} leftover JIT parameter(s)`,
  );

  const state = await pipeline.state();
  const outcomes = attributeDeliveries(pipeline, records, state.instances);
  const final = {
    liveInstances: state.instances.filter((i) => i.State?.Name === "pending" || i.State?.Name === "running").length,
    runnerParameters: state.runnerParameters.length,
    jobQueue: state.jobQueue.visible + state.jobQueue.inFlight,
    deadLetterQueue: state.deadLetterQueue.visible + state.deadLetterQueue.inFlight,
    runners: pipeline.github.runners.size,
  };

  say("\n== 4. Summary");
  say(
    table(
      ["delivery", "HTTP", "enqueued", "instances"],
      outcomes.map((o) => [o.name ?? o.delivery ?? "", o.status, o.enqueued, o.instances]),
    ),
  );
  say("");
  say(
    table(
      ["instance", "pool", "job", "what happened"],
      [...pipeline.instances.values()].map((i) => [
        i.instanceId,
        i.pool ?? "",
        i.jobId ?? "",
        i.states.slice(1).join(" → ") || i.states[0],
      ]),
    ),
  );
  say("");
  say(table(["GitHub API route", "calls"], gitHubCallRows(pipeline.github.calls)));
  say("");
  const aws = (["webhook", "launcher", "reaper", "eventSource", "instance"] as const).flatMap((caller) =>
    Object.entries(pipeline.awsCalls(caller))
      .sort()
      .map(([action, n]) => [caller, action, n] as [string, string, number]),
  );
  say(table(["caller", "AWS call", "count"], aws));
  say("");
  say(
    table(
      ["end state", "value"],
      [
        ["live instances", final.liveInstances],
        ["JIT parameters left", final.runnerParameters],
        ["messages in the job queue", final.jobQueue],
        ["messages in the dead-letter queue", final.deadLetterQueue],
        ["runners registered on GitHub", final.runners],
      ],
    ),
  );
  return { outcomes, reaper, final };
}
