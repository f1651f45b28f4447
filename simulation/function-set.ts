/**
 * The stack's functions as simulated Lambda functions: each gets its recorded environment (rewritten, see
 * deploy/environment.ts), Lambda's runtime variables, credentials of its own caller and the proxy as endpoint.
 */
import { arn, partitionOf } from "../contract/arn";
import { CALLERS, SIMULATION_ACCOUNT_ID } from "./callers";
import { type DeployedStack, functionEnvironment } from "./deploy";
import { SimulatedFunction } from "./functions";
import { type FunctionRole, functionResource, SIMULATED_FUNCTIONS, type StackSnapshot } from "./stack";

export type FunctionEnvironments = Record<
  FunctionRole,
  { environment: Record<string, string>; rewritten: Array<{ variable: string; from: string; to: string }> }
>;

export interface FunctionSetOptions {
  snapshot: StackSnapshot;
  deployed: DeployedStack;
  proxyUrl: string;
  githubApiUrl: string;
  runnerGroupId: number;
  bootGraceMinutes: number;
  concurrency: Record<FunctionRole, number>;
  workDir: string;
  functionLog(role: string, line: string): void;
}

function abbreviate(value: string): string {
  return value.length > 90 ? `${value.slice(0, 87)}...` : value;
}

export function createFunctions(
  options: FunctionSetOptions,
  log: (line: string) => void,
): { functions: Record<FunctionRole, SimulatedFunction>; environments: FunctionEnvironments } {
  const { snapshot, deployed } = options;
  const region = deployed.region;
  const environments = {} as FunctionEnvironments;
  const functions = {} as Record<FunctionRole, SimulatedFunction>;
  for (const role of Object.keys(SIMULATED_FUNCTIONS) as FunctionRole[]) {
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
      code: snapshot.bundles[SIMULATED_FUNCTIONS[role].entry],
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
      maxContainers: options.concurrency[role],
      workDir: options.workDir,
      onLog: options.functionLog,
    });
  }
  return { functions, environments };
}
