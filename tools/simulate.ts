import "./node-version";
/**
 * Local end-to-end simulation of the runner pipeline:
 *   npm run simulate [-- --stack dev] [--verbose]
 *   npm run simulate -- --scenario NAME [--json] [--stack dev]
 *   npm run simulate -- --replay FILE --webhook-secret S [--json] [--stack dev]
 *
 * Everything it starts (moto, the GitHub stand-in, the proxy, the endpoint, the function containers) is stopped at
 * the end, on errors and on Ctrl-C. With --json, stdout carries only the JSON lines (progress goes to stderr).
 * Exit status: 0 done, 1 the scenario's end state is not clean, 2 bad input or a failure.
 */
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { startPipeline, type Pipeline } from "../simulation/pipeline";
import { parseReplayFile, replay } from "../simulation/replay";
import { runDefaultScenario } from "../simulation/scenario";
import { StackInputError } from "../simulation/stack";
import { problems, SCENARIOS } from "../simulation/scenarios";

const USAGE = [
  "usage: npm run simulate -- [--stack NAME] [--verbose]",
  "       npm run simulate -- --scenario NAME [--json] [--stack NAME] [--verbose]",
  "       npm run simulate -- --replay FILE --webhook-secret SECRET [--json] [--stack NAME]",
  "",
  "scenarios (each must end with no job lost, no duplicate runner, no busy runner killed, no idle runner left):",
  ...Object.entries(SCENARIOS).map(([name, s]) => `  ${name.padEnd(26)} ${s.describe}`),
].join("\n");

async function main(): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      options: {
        stack: { type: "string", default: "dev" },
        replay: { type: "string" },
        scenario: { type: "string" },
        "webhook-secret": { type: "string" },
        json: { type: "boolean", default: false },
        verbose: { type: "boolean", short: "v", default: false },
        help: { type: "boolean", short: "h" },
      },
      strict: true,
    }));
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n${USAGE}\n`);
    return 2;
  }
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  if (values.json && !values.replay && !values.scenario) {
    process.stderr.write(`--json only applies to --replay and --scenario\n${USAGE}\n`);
    return 2;
  }
  if (values.scenario && !SCENARIOS[values.scenario]) {
    process.stderr.write(`unknown scenario ${JSON.stringify(values.scenario)}\n${USAGE}\n`);
    return 2;
  }
  if (values.scenario && values.replay) {
    process.stderr.write(`--scenario and --replay do not go together\n${USAGE}\n`);
    return 2;
  }
  let replayText: string | undefined;
  if (values.replay) {
    if (!values["webhook-secret"]) {
      process.stderr.write(`--replay needs --webhook-secret (the secret the deliveries were signed with)\n${USAGE}\n`);
      return 2;
    }
    try {
      replayText = readFileSync(values.replay, "utf8");
    } catch (error) {
      process.stderr.write(`--replay ${values.replay}: ${(error as Error).message}\n`);
      return 2;
    }
  }

  // With --json only the result lines go to stdout; everything else (ours, the program's) goes to stderr.
  const out = process.stdout.write.bind(process.stdout);
  const progress = (line: string) => process.stderr.write(`${line}\n`);
  const say = values.json ? progress : (line: string) => void out(`${line}\n`);
  if (values.json) process.stdout.write = process.stderr.write.bind(process.stderr) as typeof process.stdout.write;

  let pipeline: Pipeline | undefined;
  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    await pipeline?.stop();
  };
  const onSignal = (signal: NodeJS.Signals) => {
    progress(`\n${signal}: stopping everything the simulation started…`);
    void stop().finally(() => process.exit(130));
  };
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);

  try {
    pipeline = await startPipeline({
      stack: values.stack,
      webhookSecret: values["webhook-secret"],
      log: values.json ? progress : say,
      functionLog: values.verbose ? (role, line) => progress(`  [${role}] ${line}`) : undefined,
    });
    if (replayText !== undefined) {
      const lines = parseReplayFile(replayText);
      progress(`\n== replaying ${lines.length} deliveries from ${values.replay}`);
      const { outcomes, summary } = await replay(pipeline, lines, progress);
      for (const outcome of outcomes) {
        const { name, delivery, status, enqueued, instances } = outcome;
        if (values.json) out(`${JSON.stringify({ name, delivery, status, enqueued, instances })}\n`);
        else
          say(
            `  line ${outcome.line}: ${name ?? delivery ?? "(unnamed)"} → ${status}, ${enqueued} enqueued, ${instances} instance(s)${outcome.error ? ` (${outcome.error})` : ""}`,
          );
      }
      const line = {
        summary: {
          jobsSeen: summary.jobsSeen,
          jobsRun: summary.jobsRun,
          jobsLost: summary.jobsLost,
          duplicateRunners: summary.duplicateRunners,
          runnersForCancelledJobs: summary.runnersForCancelledJobs,
          runnersForCancelledJobsMaxIdleSeconds: summary.runnersForCancelledJobsMaxIdleSeconds,
          runnersNeverOnline: summary.runnersNeverOnline,
          idleRunnerMinutes: summary.idleRunnerMinutes,
        },
      };
      if (values.json) out(`${JSON.stringify(line)}\n`);
      else say(`  summary: ${JSON.stringify(line.summary)}`);
      return 0;
    }
    if (values.scenario) {
      say(`\n== scenario ${values.scenario}: ${SCENARIOS[values.scenario].describe}`);
      const report = await SCENARIOS[values.scenario].run(pipeline, say);
      const found = problems(report);
      if (values.json) out(`${JSON.stringify({ ...report, problems: found })}\n`);
      else {
        say(`  summary: ${JSON.stringify(report.summary)}`);
        say(`  facts: ${JSON.stringify(report.facts)}`);
        say(found.length ? `\nFAILED: ${found.join("; ")}` : "\nno job lost, no duplicate runner");
      }
      return found.length ? 1 : 0;
    }
    const result = await runDefaultScenario(pipeline, say);
    const clean =
      result.final.liveInstances === 0 &&
      result.final.runnerParameters === 0 &&
      result.final.jobQueue === 0 &&
      result.final.deadLetterQueue === 0;
    say(
      clean
        ? "\nEverything the jobs started has ended: no instance, parameter or message is left."
        : "\nThe end state is not clean (see above).",
    );
    return clean ? 0 : 1;
  } catch (error) {
    // A user's mistake gets one line; anything else is a defect and keeps its trace.
    progress(`error: ${error instanceof StackInputError ? error.message : ((error as Error).stack ?? String(error))}`);
    return 2;
  } finally {
    progress("stopping moto, the GitHub stand-in and the function containers");
    await stop();
  }
}

main().then(
  (code) => process.exit(code),
  (error) => {
    process.stderr.write(`error: ${(error as Error).stack ?? String(error)}\n`);
    process.exit(2);
  },
);
