/**
 * Live logs against moto's CloudWatch Logs: the reader the action and the CLI build (liveDeps) follows one task
 * stream from its first event, prints each line once across polls, and waits quietly for a stream that does not
 * exist yet.
 */
import {
  CloudWatchLogsClient,
  CreateLogGroupCommand,
  CreateLogStreamCommand,
  PutLogEventsCommand,
} from "@aws-sdk/client-cloudwatch-logs";
import * as assert from "node:assert/strict";
import { startMoto, type MotoServer } from "../../testkit/moto";
import { cloudWatchLogReader } from "../../tools/run-task/cloudwatch-logs";
import { liveDeps } from "../../tools/run-task/process";
import { LogFollower, type LogReader } from "../../tools/run-task/task-logs";
import { options, REGION } from "./sfn-fixture";

const GROUP = "/cirunners/dev/tasks/db-migrate";
const STREAM = "task/db-migrate/0123abcd";

describe("run-task live logs against moto's CloudWatch Logs", function () {
  this.timeout(120_000);
  let moto: MotoServer;
  let client: CloudWatchLogsClient;

  before(async () => {
    moto = await startMoto({ region: REGION });
    client = new CloudWatchLogsClient({ region: REGION });
  });
  after(async () => {
    client?.destroy();
    await moto?.stop();
  });
  beforeEach(async () => {
    await moto.reset();
    await client.send(new CreateLogGroupCommand({ logGroupName: GROUP }));
  });

  const put = async (stream: string, messages: string[], at: number) =>
    client.send(
      new PutLogEventsCommand({
        logGroupName: GROUP,
        logStreamName: stream,
        logEvents: messages.map((message, i) => ({ timestamp: at + i, message })),
      }),
    );

  function follow(reader: LogReader, stream = STREAM) {
    const printed: string[] = [];
    const notes: string[] = [];
    const follower = new LogFollower(
      reader,
      { logGroup: GROUP, logStream: stream },
      (line) => printed.push(line),
      (line) => notes.push(line),
    );
    return { follower, printed, notes };
  }

  it("prints the stream from its first event, then only what is new at each poll", async () => {
    await client.send(new CreateLogStreamCommand({ logGroupName: GROUP, logStreamName: STREAM }));
    const now = Date.now();
    await put(STREAM, ["migrating 001_orders", "migrating 002_lines\nwith a second line"], now);
    const { follower, printed, notes } = follow(cloudWatchLogReader(client));
    await follower.drain();
    assert.deepEqual(printed, ["migrating 001_orders", "migrating 002_lines", "with a second line"]);
    await follower.drain();
    assert.equal(printed.length, 3, "a poll with nothing new prints nothing");
    await put(STREAM, ["done: 2 migrations"], now + 10);
    await follower.drain();
    assert.deepEqual(printed.slice(3), ["done: 2 migrations"]);
    assert.deepEqual(notes, []);
  });

  it("waits quietly for a stream the container has not created yet, then follows it", async () => {
    const stream = "task/db-migrate/later";
    const { follower, printed, notes } = follow(cloudWatchLogReader(client), stream);
    await follower.drain();
    assert.deepEqual([printed, notes], [[], []]);
    await client.send(new CreateLogStreamCommand({ logGroupName: GROUP, logStreamName: stream }));
    await put(stream, ["started"], Date.now());
    await follower.drain();
    assert.deepEqual(printed, ["started"]);
  });

  it("is what liveDeps gives the action and the CLI", async () => {
    await client.send(new CreateLogStreamCommand({ logGroupName: GROUP, logStreamName: STREAM }));
    await put(STREAM, ["from the live client"], Date.now());
    const deps = liveDeps(options("arn:aws:states:eu-west-1:123456789012:stateMachine:x"), () => undefined);
    assert.ok(deps.logs, "liveDeps reads the task's logs");
    const { follower, printed } = follow(deps.logs);
    await follower.drain();
    assert.deepEqual(printed, ["from the live client"]);
  });
});
