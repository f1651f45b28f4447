/**
 * The stack's functions as simulated Lambda functions: each gets its recorded environment (rewritten, see
 * deploy/environment.ts), Lambda's runtime variables, credentials of its own caller and the proxy as endpoint.
 */
import { arn, partitionOf } from "../contract/arn";
import { CALLERS, SIMULATION_ACCOUNT_ID } from "./callers";
import { type DeployedStack, functionEnvironment } from "./deploy";
import { SimulatedFunction } from "./functions";
import {
  type CoreRole,
  entryOf,
  type FunctionRole,
  functionResource,
  type ScheduledRole,
  scheduledRoles,
  SIMULATED_FUNCTIONS,
  type StackSnapshot,
} from "./stack";

type Environment = {
  environment: Record<string, string>;
  rewritten: Array<{ variable: string; from: string; to: string }>;
};

/** Every core function's environment, and the scheduled functions' the stack has. */
export type FunctionEnvironments = Record<CoreRole, Environment> & Partial<Record<ScheduledRole, Environment>>;
export type FunctionSet = Record<CoreRole, SimulatedFunction> & Partial<Record<ScheduledRole, SimulatedFunction>>;

export interface FunctionSetOptions {
  snapshot: StackSnapshot;
  deployed: DeployedStack;
  proxyUrl: string;
  githubApiUrl: string;
  runnerGroupId: number;
  bootGraceMinutes: number;
  /** The stand-in's organization webhook id. */
  hookId: number;
  concurrency: Record<CoreRole, number>;
  /** The simulation clock's shared offset (clock.ts). */
  clock: SharedArrayBuffer;
  workDir: string;
  functionLog(role: string, line: string): void;
}

function abbreviate(value: string): string {
  return value.length > 90 ? `${value.slice(0, 87)}...` : value;
}

export function createFunctions(
  options: FunctionSetOptions,
  log: (line: string) => void,
): { functions: FunctionSet; environments: FunctionEnvironments } {
  const { snapshot, deployed } = options;
  const region = deployed.region;
  const environments = {} as Record<FunctionRole, Environment>;
  const functions = {} as Record<FunctionRole, SimulatedFunction>;
  const roles: FunctionRole[] = [...(Object.keys(SIMULATED_FUNCTIONS) as CoreRole[]), ...scheduledRoles(snapshot)];
  for (const role of roles) {
    const resource = functionResource(snapshot, role);
    const env = functionEnvironment(snapshot, role, options);
    environments[role] = env;
    for (const change of env.rewritten)
      log(`  ~ ${role}: ${change.variable} ${abbreviate(change.from)} → ${abbreviate(change.to)}`);
    const functionName = String(resource.inputs.name ?? resource.name);
    const memorySize = Number(resource.inputs.memorySize ?? 128);
    functions[role] = new SimulatedFunction({
      role,
      functionName,
      functionArn: arn(
        { partition: partitionOf(region) },
        "lambda",
        region,
        SIMULATION_ACCOUNT_ID,
        `function:${functionName}`,
      ),
      files: snapshot.bundles[entryOf(role)],
      environment: {
        ...env.environment,
        PATH: process.env.PATH ?? "/usr/bin:/bin",
        TZ: "UTC",
        AWS_ENDPOINT_URL: options.proxyUrl,
        AWS_ACCESS_KEY_ID: CALLERS[role],
        AWS_SECRET_ACCESS_KEY: "simulation",
        AWS_REGION: region,
        AWS_DEFAULT_REGION: region,
        AWS_LAMBDA_FUNCTION_NAME: functionName,
        AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(memorySize),
        AWS_LAMBDA_FUNCTION_VERSION: "$LATEST",
      },
      memorySize,
      timeoutSeconds: Number(resource.inputs.timeout ?? 30),
      // Scheduled functions run one at a time (the program reserves a concurrency of 1).
      maxContainers: role in options.concurrency ? options.concurrency[role as CoreRole] : 1,
      clock: options.clock,
      workDir: options.workDir,
      onLog: options.functionLog,
    });
  }
  return { functions, environments };
}
