/**
 * The task's log stream while it runs, and following it into the workflow log.
 *
 * Where: the execution's history has the registered task definition (the `registerTaskDefinition` TaskSucceeded
 * event: the container whose image carries the run's tag, with its awslogs group and stream prefix) and the
 * started task (the `runTask.sync` TaskSubmitted event: the RunTask response with the task ARN). awslogs names
 * streams `<prefix>/<container name>/<task id>` (ECS developer guide, "Using the awslogs log driver").
 */
import type { HistoryEvent } from "@aws-sdk/client-sfn";
import type { LogLocation } from "./lib";

type Json = Record<string, unknown>;

function parseObject(text: string | undefined): Json | undefined {
  if (!text) return undefined;
  try {
    const value = JSON.parse(text) as unknown;
    return value !== null && typeof value === "object" && !Array.isArray(value) ? (value as Json) : undefined;
  } catch {
    return undefined;
  }
}

const asArray = (value: unknown): Json[] => (Array.isArray(value) ? (value as Json[]) : []);

/** The container logging to awslogs whose image is `<repository>:<imageTag>`, from a RegisterTaskDefinition result. */
function taskContainerLogs(
  output: Json,
  imageTag: string,
): { container: string; group: string; prefix: string } | undefined {
  const definition = (output.TaskDefinition ?? {}) as Json;
  for (const container of asArray(definition.ContainerDefinitions)) {
    const logging = (container.LogConfiguration ?? {}) as Json;
    const options = (logging.Options ?? {}) as Record<string, string>;
    if (typeof container.Image !== "string" || !container.Image.endsWith(`:${imageTag}`)) continue;
    if (logging.LogDriver !== "awslogs" || !options["awslogs-group"] || !options["awslogs-stream-prefix"]) continue;
    return {
      container: String(container.Name),
      group: options["awslogs-group"],
      prefix: options["awslogs-stream-prefix"],
    };
  }
  return undefined;
}

/**
 * The started task's log stream, from an execution's history events (oldest first), or undefined while the task
 * has not been submitted (or the history does not carry data). With capacity re-runs the last task counts.
 */
export function logLocationFromHistory(events: HistoryEvent[], imageTag: string): LogLocation | undefined {
  let logs: ReturnType<typeof taskContainerLogs>;
  let taskArn: string | undefined;
  for (const event of events) {
    const succeeded = event.taskSucceededEventDetails;
    if (event.type === "TaskSucceeded" && succeeded?.resource === "registerTaskDefinition") {
      const output = parseObject(succeeded.output);
      logs = (output && taskContainerLogs(output, imageTag)) ?? logs;
    }
    const submitted = event.taskSubmittedEventDetails;
    if (
      event.type === "TaskSubmitted" &&
      submitted?.resourceType === "ecs" &&
      submitted.resource?.startsWith("runTask")
    ) {
      const task = asArray(parseObject(submitted.output)?.Tasks)[0];
      if (typeof task?.TaskArn === "string") taskArn = task.TaskArn;
    }
  }
  if (!logs || !taskArn) return undefined;
  return { logGroup: logs.group, logStream: `${logs.prefix}/${logs.container}/${taskArn.split("/").pop()}` };
}

export interface LogEvent {
  timestamp?: number;
  message?: string;
}

/** CloudWatch Logs GetLogEvents (startFromHead) over one stream: events after `token` and the next forward token. */
export interface LogReader {
  read(location: LogLocation, token: string | undefined): Promise<{ events: LogEvent[]; nextToken?: string }>;
}

/** Pages read per `drain`, so a chatty task cannot starve the execution's polling. */
const PAGES_PER_DRAIN = 20;

/** Prints a log stream's new events each time `drain` is called; reading problems never fail the run. */
export class LogFollower {
  private token: string | undefined;
  private stopped = false;

  constructor(
    private readonly reader: LogReader,
    private readonly location: LogLocation,
    private readonly print: (line: string) => void,
    private readonly log: (line: string) => void,
  ) {}

  async drain(): Promise<void> {
    for (let page = 0; page < PAGES_PER_DRAIN && !this.stopped; page++) {
      let result;
      try {
        result = await this.reader.read(this.location, this.token);
      } catch (error) {
        this.onError(error);
        return;
      }
      for (const event of result.events)
        for (const line of (event.message ?? "").trimEnd().split("\n")) this.print(line);
      // GetLogEvents returns the token it was given when there is nothing newer (CloudWatch Logs API reference).
      const done = !result.nextToken || result.nextToken === this.token;
      this.token = result.nextToken ?? this.token;
      if (done) return;
    }
  }

  private onError(error: unknown): void {
    const name = (error as { name?: string } | null)?.name ?? "Error";
    // The stream appears when the container starts writing; until then there is nothing to read.
    if (name === "ResourceNotFoundException") return;
    if (name === "AccessDeniedException") {
      this.stopped = true;
      this.log(`cannot read the task's logs (${name}): use the logs link; the deploy role needs logs:GetLogEvents`);
      return;
    }
    // Anything else (throttling, network): the next drain tries again.
  }
}
