/**
 * The LogReader over CloudWatch Logs (task-logs.ts follows it): GetLogEvents on the task's stream, oldest first,
 * continuing from the forward token. Only the stream the execution names is read, which is what the deploy role
 * allows (logs:GetLogEvents on the task's log group streams).
 */
import { type CloudWatchLogsClient, GetLogEventsCommand } from "@aws-sdk/client-cloudwatch-logs";
import type { LogLocation } from "./lib";
import type { LogReader } from "./task-logs";

/** Events per call: small pages keep each poll short; LogFollower reads several pages per drain. */
const EVENTS_PER_PAGE = 1000;

export function cloudWatchLogReader(client: CloudWatchLogsClient): LogReader {
  return {
    async read(location: LogLocation, token: string | undefined) {
      const page = await client.send(
        new GetLogEventsCommand({
          logGroupName: location.logGroup,
          logStreamName: location.logStream,
          // From the first event; with a forward token, after the last page. A nextForwardToken must be sent with
          // startFromHead true (CloudWatch Logs API reference, GetLogEvents).
          startFromHead: true,
          ...(token ? { nextToken: token } : {}),
          limit: EVENTS_PER_PAGE,
        }),
      );
      return { events: page.events ?? [], nextToken: page.nextForwardToken };
    },
  };
}
