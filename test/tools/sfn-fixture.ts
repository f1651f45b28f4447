/**
 * Shared set-up for the run-task tests against moto's Step Functions: a fresh moto per test file that executes
 * state machines, stand-in state machines, and a proxy that injects AWS errors in front of moto.
 */
import { CreateStateMachineCommand, DescribeExecutionCommand, SFNClient } from "@aws-sdk/client-sfn";
import * as assert from "node:assert/strict";
import { createServer, request, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { startMoto, type MotoServer } from "../../testkit/moto";
import type { RunDeps } from "../../tools/run-task/run";
import type { RunTaskOptions } from "../../tools/run-task/options";

export const REGION = "eu-west-1";
export const SHA = "3f786850e387550fdab836ed7e6dc881de23001b";

export function options(stateMachineArn: string, extra: Partial<RunTaskOptions> = {}): RunTaskOptions {
  return { stateMachineArn, imageTag: SHA, timeoutMs: 30_000, region: REGION, ifRunning: "fail", ...extra };
}

export interface SfnFixture {
  moto: MotoServer;
  client: SFNClient;
  lines: string[];
  deps(extra?: Partial<RunDeps>): RunDeps;
  /**
   * moto's interpreter does not evaluate JSONata: stand-ins use JSONPath states that end the way the real
   * definition ends (same error names, same summary in the output or the cause).
   */
  stateMachine(name: string, states: Record<string, unknown>, startAt: string): Promise<string>;
  /**
   * The status of an execution once it has ended. moto runs an execution in a thread of its own: StartExecution
   * answers while it is still RUNNING, however short its definition, and under load it may stay so for a while.
   */
  ended(executionArn: string | undefined): Promise<string>;
}

/**
 * Resolves once `condition` holds (checked every 20 ms), or fails naming `what` after `timeoutMs`: for tests that
 * need a state reached (a line logged, an execution ended), not an amount of time passed.
 */
export async function until(
  what: string,
  condition: () => boolean | Promise<boolean>,
  timeoutMs = 30_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Registers mocha hooks: moto started once, reset and set to execute state machines before each test. */
export function useSfnFixture(): SfnFixture {
  const fixture = { lines: [] as string[] } as SfnFixture;
  fixture.deps = (extra = {}) => ({
    client: fixture.client,
    sleep: (ms: number) => new Promise<void>((r) => setTimeout(r, Math.min(ms, 50))),
    now: () => Date.now(),
    log: (line: string) => fixture.lines.push(line),
    backoff: { initialMs: 100, maxMs: 200, factor: 2 },
    retry: { baseMs: 10, capMs: 50, budgetMs: 10_000 },
    ...extra,
  });
  fixture.stateMachine = async (name, states, startAt) => {
    const created = await fixture.client.send(
      new CreateStateMachineCommand({
        name,
        roleArn: "arn:aws:iam::123456789012:role/sfn",
        definition: JSON.stringify({ StartAt: startAt, States: states }),
      }),
    );
    return created.stateMachineArn as string;
  };
  fixture.ended = async (executionArn) => {
    let status = "";
    await until(`execution ${executionArn} to end`, async () => {
      status = (await fixture.client.send(new DescribeExecutionCommand({ executionArn }))).status ?? "";
      return status !== "" && status !== "RUNNING";
    });
    return status;
  };
  before(async () => {
    fixture.moto = await startMoto({ region: REGION });
    fixture.client = new SFNClient({ region: REGION, maxAttempts: 1 });
  });
  after(async () => {
    fixture.client?.destroy();
    await fixture.moto?.stop();
  });
  beforeEach(async () => {
    fixture.lines.length = 0;
    await fixture.moto.reset();
    const response = await fetch(`${fixture.moto.endpoint}/moto-api/config`, {
      method: "POST",
      body: JSON.stringify({ stepfunctions: { execute_state_machine: true } }),
    });
    assert.ok(response.ok);
  });
  return fixture;
}

/** How the proxy answers one matching request instead of forwarding it. */
export type Fault = "throttle" | "unavailable" | "reset" | "denied";

/**
 * An HTTP proxy in front of moto that answers the next requests for one Step Functions action (X-Amz-Target
 * `AWSStepFunctions.<action>`) with the queued faults, as Step Functions' JSON protocol would, then forwards.
 */
export async function faultProxy(target: string): Promise<{
  endpoint: string;
  inject(action: string, faults: Fault[]): void;
  calls: Record<string, number>;
  close(): Promise<void>;
}> {
  const queued = new Map<string, Fault[]>();
  const calls: Record<string, number> = {};
  const server: Server = createServer((req, res) => {
    const action =
      String(req.headers["x-amz-target"] ?? "")
        .split(".")
        .pop() ?? "";
    calls[action] = (calls[action] ?? 0) + 1;
    const fault = queued.get(action)?.shift();
    const body: Buffer[] = [];
    req.on("data", (chunk: Buffer) => body.push(chunk));
    req.on("end", () => {
      const answer = (status: number, type: string, message: string) => {
        res.writeHead(status, { "content-type": "application/x-amz-json-1.0" });
        res.end(JSON.stringify({ __type: type, message }));
      };
      if (fault === "throttle") return answer(400, "ThrottlingException", "Rate exceeded");
      if (fault === "unavailable") return answer(503, "ServiceUnavailable", "Service Unavailable");
      if (fault === "denied")
        return answer(400, "AccessDeniedException", `User is not authorized to perform: states:${action}`);
      if (fault === "reset") return req.socket.destroy();
      const upstream = request(`${target}${req.url}`, { method: req.method, headers: req.headers }, (up) => {
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
      });
      upstream.end(Buffer.concat(body));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    inject: (action, faults) => queued.set(action, [...(queued.get(action) ?? []), ...faults]),
    calls,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
