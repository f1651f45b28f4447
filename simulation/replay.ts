/**
 * Replay files: newline-delimited JSON, one delivery per line, `{"name"?, "headers": {...}, "body": "<raw body>"}`.
 * A bad line is reported with its line number and the others are still replayed.
 */
import type { RunSummary } from "./accounting";
import type { Delivery } from "./deliveries";
import type { DeliveryOutcome } from "./report";
import type { Pipeline } from "./pipeline";
import { attributeDeliveries } from "./report";
import { close } from "./scenarios/kit";

export type ReplayLine = { line: number; delivery: Delivery } | { line: number; error: string; name?: string };

/** Parses a replay file's text. Blank lines are skipped; every other line yields a delivery or an error. */
export function parseReplayFile(text: string): ReplayLine[] {
  const out: ReplayLine[] = [];
  text.split(/\r?\n/).forEach((raw, index) => {
    const line = index + 1;
    if (raw.trim() === "") return;
    let value: unknown;
    try {
      value = JSON.parse(raw);
    } catch (error) {
      out.push({ line, error: `line ${line}: not valid JSON: ${(error as Error).message}` });
      return;
    }
    if (typeof value !== "object" || value === null || Array.isArray(value)) {
      out.push({ line, error: `line ${line}: expected a JSON object {"name"?, "headers", "body"}` });
      return;
    }
    const { name, headers, body } = value as Record<string, unknown>;
    const label = typeof name === "string" ? name : undefined;
    if (name !== undefined && typeof name !== "string") {
      out.push({ line, error: `line ${line}: "name" must be a string`, name: undefined });
      return;
    }
    if (typeof headers !== "object" || headers === null || Array.isArray(headers)) {
      out.push({ line, error: `line ${line}: "headers" must be an object of header name → string`, name: label });
      return;
    }
    const bad = Object.entries(headers as Record<string, unknown>).find(([, v]) => typeof v !== "string");
    if (bad) {
      out.push({ line, error: `line ${line}: header ${JSON.stringify(bad[0])} must be a string`, name: label });
      return;
    }
    if (typeof body !== "string") {
      out.push({ line, error: `line ${line}: "body" must be the raw body as a string (not parsed JSON)`, name: label });
      return;
    }
    out.push({ line, delivery: { name: label, headers: headers as Record<string, string>, body } });
  });
  return out;
}

/**
 * The job a replayed `workflow_job` delivery is about exists on GitHub: the stand-in learns it (without delivering
 * anything itself) so that a runner launched for it can take it, as on GitHub.
 */
function adoptJob(pipeline: Pipeline, delivery: Delivery): void {
  try {
    const payload = JSON.parse(delivery.body) as {
      workflow_job?: { id?: number; labels?: string[]; status?: string; run_id?: number };
      repository?: { name?: string; owner?: { login?: string } };
    };
    const job = payload.workflow_job;
    const owner = payload.repository?.owner?.login;
    if (!job?.id || !job.labels || !owner || pipeline.github.jobs.has(job.id)) return;
    pipeline.github.createJob({
      id: job.id,
      runId: job.run_id,
      owner,
      repository: payload.repository?.name,
      labels: job.labels,
      needsApproval: job.status === "waiting",
      deliver: false,
    });
  } catch {
    // not a workflow_job payload: nothing to adopt; the webhook answers it as it does
  }
}

/**
 * Sends every valid delivery through the endpoint in file order, waits for the launcher to drain and the jobs to
 * run, and returns one outcome per line (invalid lines have status "invalid") and the run's summary.
 */
export async function replay(
  pipeline: Pipeline,
  lines: ReplayLine[],
  onProgress: (line: string) => void = () => undefined,
): Promise<{ outcomes: Array<DeliveryOutcome & { line: number; error?: string }>; summary: RunSummary }> {
  const startedAt = pipeline.clock.now();
  const sent: Array<{ line: number; index: number }> = [];
  const records = [];
  for (const entry of lines) {
    if ("error" in entry) {
      onProgress(`  ! ${entry.error}`);
      continue;
    }
    adoptJob(pipeline, entry.delivery);
    const record = await pipeline.deliver(entry.delivery);
    onProgress(
      `  line ${entry.line}${entry.delivery.name ? ` (${entry.delivery.name})` : ""}: HTTP ${record.status} ${record.responseBody.slice(0, 160)}`,
    );
    sent.push({ line: entry.line, index: records.length });
    records.push(record);
  }
  await pipeline.waitForIdle(120_000);
  const state = await pipeline.state();
  const outcomes = attributeDeliveries(pipeline, records, state.instances);
  const byLine = new Map(sent.map((s) => [s.line, outcomes[s.index]]));
  const { summary } = await close(pipeline, "replay", startedAt, {});
  const perLine = lines.map((entry) =>
    "error" in entry
      ? {
          line: entry.line,
          name: entry.name ?? null,
          delivery: null,
          status: "invalid" as const,
          enqueued: 0,
          instances: 0,
          error: entry.error,
        }
      : { line: entry.line, ...byLine.get(entry.line)! },
  );
  return { outcomes: perLine, summary };
}
