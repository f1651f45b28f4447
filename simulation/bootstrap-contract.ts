/**
 * What a pool's user data tells its instances: the variables `renderUserData` (program/ephemeral-runners/user-data.ts)
 * exports above bootstrap.sh (the JIT parameter's name template and the cache keys, computed by the contract's
 * rules), read back from the launch template. The simulated instance acts on these, never on spellings of its own.
 */
import type { Architecture } from "../contract/names";
import type { BootstrapVariables } from "../program/ephemeral-runners/user-data";

export interface BootstrapContract {
  variables: BootstrapVariables;
  /** The SSM parameter the instance reads its JIT config from, then deletes. */
  parameterName(instanceId: string): string;
  /** Where the instance fetches the runner from: the cache bucket's tarball and manifest for its architecture. */
  cache: { bucket: string; tarballKey: string; manifestKey: string };
  /** Where the instance ships its logs: the log group, a stream named after the instance. */
  logStream(instanceId: string): { group: string; stream: string };
}

/** `'it'\''s'` → `it's`: the inverse of the single-quoting `renderUserData` applies to every value. */
function shellUnquote(quoted: string): string {
  if (!quoted.startsWith("'") || !quoted.endsWith("'")) throw new Error(`not a single-quoted value: ${quoted}`);
  return quoted.slice(1, -1).replace(/'\\''/g, "'");
}

/** The `export NAME='value'` lines at the top of a user data script. */
export function exportedSettings(userData: string): Record<string, string> {
  const settings: Record<string, string> = {};
  for (const line of userData.split("\n")) {
    const match = /^export ([A-Z_][A-Z0-9_]*)=('.*')$/.exec(line);
    if (match) settings[match[1]] = shellUnquote(match[2]);
  }
  return settings;
}

/** The contract of a launch template's user data (base64, as EC2 takes it). */
export function bootstrapContract(userDataBase64: string): BootstrapContract {
  const exported = exportedSettings(Buffer.from(userDataBase64, "base64").toString("utf8"));
  const required = (name: keyof BootstrapVariables): string => {
    const value = exported[name];
    if (value === undefined) throw new Error(`the launch template's user data exports no ${name}`);
    return value;
  };
  const variables: BootstrapVariables = {
    CIRUNNERS_INSTANCE_ID_PLACEHOLDER: required("CIRUNNERS_INSTANCE_ID_PLACEHOLDER"),
    CIRUNNERS_RUNNER_PARAMETER_TEMPLATE: required("CIRUNNERS_RUNNER_PARAMETER_TEMPLATE"),
    CIRUNNERS_RUNNER_TARBALL_KEY: required("CIRUNNERS_RUNNER_TARBALL_KEY"),
    CIRUNNERS_RUNNER_MANIFEST_KEY: required("CIRUNNERS_RUNNER_MANIFEST_KEY"),
    CIRUNNERS_RUNNER_CACHE_BUCKET: required("CIRUNNERS_RUNNER_CACHE_BUCKET"),
    CIRUNNERS_RUNNER_ARCH: required("CIRUNNERS_RUNNER_ARCH") as Architecture,
    CIRUNNERS_LOG_GROUP: required("CIRUNNERS_LOG_GROUP"),
    CIRUNNERS_PARAMETER_WAIT_SECONDS: Number(required("CIRUNNERS_PARAMETER_WAIT_SECONDS")),
  };
  return {
    variables,
    // The script substitutes its instance id for the placeholder, as bootstrap.sh does.
    parameterName: (instanceId) =>
      variables.CIRUNNERS_RUNNER_PARAMETER_TEMPLATE.replace(variables.CIRUNNERS_INSTANCE_ID_PLACEHOLDER, instanceId),
    cache: {
      bucket: variables.CIRUNNERS_RUNNER_CACHE_BUCKET,
      tarballKey: variables.CIRUNNERS_RUNNER_TARBALL_KEY,
      manifestKey: variables.CIRUNNERS_RUNNER_MANIFEST_KEY,
    },
    logStream: (instanceId) => ({ group: variables.CIRUNNERS_LOG_GROUP, stream: instanceId }),
  };
}
