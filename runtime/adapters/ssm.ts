/**
 * Every SSM Parameter Store call of the functions: the GitHub App key through Powertools Parameters, and the
 * per-instance just-in-time runner parameters. (The webhook secret is in Secrets Manager: `secrets.ts`.)
 */
import { SSMProvider } from "@aws-lambda-powertools/parameters/ssm";
import {
  DeleteParametersCommand,
  PutParameterCommand,
  type SSMClient,
  paginateGetParametersByPath,
} from "@aws-sdk/client-ssm";
import type { ReaperParameter } from "../core/reaper/decide.js";

/** DeleteParameters takes at most 10 names a call (SSM API reference). */
const DELETE_BATCH = 10;

/** Reads a SecureString, decrypted and cached in the container for `maxAgeSeconds`; throws when it is empty. */
export function secretReader(ssm: SSMClient): (name: string, maxAgeSeconds: number) => Promise<string> {
  const provider = new SSMProvider({ awsSdkV3Client: ssm });
  return async (name, maxAgeSeconds) => {
    const value = await provider.get(name, { decrypt: true, maxAge: maxAgeSeconds });
    if (typeof value !== "string" || value === "") throw new Error(`parameter ${name} is empty`);
    return value;
  };
}

export interface RunnerParameter {
  name: string;
  value: string;
  description: string;
  tags: { Key: string; Value: string }[];
}

/** Writes a just-in-time config as a SecureString. */
export async function putRunnerParameter(ssm: SSMClient, parameter: RunnerParameter): Promise<void> {
  await ssm.send(
    new PutParameterCommand({
      Name: parameter.name,
      Type: "SecureString",
      Value: parameter.value,
      // A JIT config is usually under 4 KB; Intelligent-Tiering moves a larger one to the advanced tier.
      Tier: "Intelligent-Tiering",
      Description: parameter.description,
      Tags: parameter.tags,
    }),
  );
}

/** Just-in-time parameters under the prefix (names only: values are never decrypted here). */
export async function listRunnerParameters(ssm: SSMClient, prefix: string): Promise<ReaperParameter[]> {
  const path = prefix.replace(/\/+$/, "");
  const parameters: ReaperParameter[] = [];
  const pages = paginateGetParametersByPath(
    { client: ssm, pageSize: 10 },
    { Path: path, Recursive: false, WithDecryption: false },
  );
  for await (const page of pages) {
    for (const parameter of page.Parameters ?? []) {
      if (!parameter.Name) continue;
      const instanceId = parameter.Name.slice(path.length + 1);
      if (!/^i-[0-9a-f]+$/.test(instanceId)) continue; // not a per-instance JIT config: not ours to delete
      parameters.push({
        name: parameter.Name,
        instanceId,
        lastModified: parameter.LastModifiedDate ? new Date(parameter.LastModifiedDate) : new Date(0),
      });
    }
  }
  return parameters;
}

/** Deletes parameters, 10 per call. Returns the names SSM deleted or no longer had. */
export async function deleteParameters(ssm: SSMClient, names: string[]): Promise<string[]> {
  const done: string[] = [];
  for (let i = 0; i < names.length; i += DELETE_BATCH) {
    const result = await ssm.send(new DeleteParametersCommand({ Names: names.slice(i, i + DELETE_BATCH) }));
    done.push(...(result.DeletedParameters ?? []), ...(result.InvalidParameters ?? []));
  }
  return done;
}
