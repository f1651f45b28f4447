/**
 * What a pool's user data tells its instances: the settings `renderUserData` (program/ephemeral-runners/user-data.ts)
 * exports above bootstrap.sh, read back from the launch template, and the names the bootstrap derives from them
 * with the contract's rules. The simulated instance acts on this, never on spellings of its own.
 */
import { type Architecture, runnerCacheKey, runnerCacheManifestKey, runnerParameterName } from "../contract/names";
import type { BootstrapSettings } from "../program/ephemeral-runners/user-data";

export interface BootstrapContract {
  settings: BootstrapSettings;
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
  const required = (name: keyof BootstrapSettings): string => {
    const value = exported[name];
    if (value === undefined) throw new Error(`the launch template's user data exports no ${name}`);
    return value;
  };
  const settings: BootstrapSettings = {
    CIRUNNERS_PARAMETER_PREFIX: required("CIRUNNERS_PARAMETER_PREFIX"),
    CIRUNNERS_RUNNER_CACHE_BUCKET: required("CIRUNNERS_RUNNER_CACHE_BUCKET"),
    CIRUNNERS_RUNNER_ARCH: required("CIRUNNERS_RUNNER_ARCH") as Architecture,
    CIRUNNERS_LOG_GROUP: required("CIRUNNERS_LOG_GROUP"),
    CIRUNNERS_PARAMETER_WAIT_SECONDS: Number(required("CIRUNNERS_PARAMETER_WAIT_SECONDS")),
  };
  return {
    settings,
    parameterName: (instanceId) => runnerParameterName(settings.CIRUNNERS_PARAMETER_PREFIX, instanceId),
    cache: {
      bucket: settings.CIRUNNERS_RUNNER_CACHE_BUCKET,
      tarballKey: runnerCacheKey(settings.CIRUNNERS_RUNNER_ARCH),
      manifestKey: runnerCacheManifestKey(settings.CIRUNNERS_RUNNER_ARCH),
    },
    logStream: (instanceId) => ({ group: settings.CIRUNNERS_LOG_GROUP, stream: instanceId }),
  };
}
