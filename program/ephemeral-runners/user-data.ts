/**
 * Renders the runner bootstrap (bootstrap.sh) into EC2 user data: the script's shebang, then one
 * `export NAME='value'` line per variable (single-quoted, so no value is ever expanded or executed by the shell),
 * then the script body. The names the script shares with the launcher and the runner-cache function (the JIT
 * parameter's name, the cache keys) are rendered in from the contract, so the script never spells them. Pure;
 * used by the runner fleet component.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { METRIC, POOL_DIMENSION } from "../../contract/metrics";
import { METRICS_NAMESPACE, runnerCacheKey, runnerCacheManifestKey, runnerParameterName } from "../../contract/names";
import { awsCliUrl, BAKED_IMAGE_MARKER, cloudWatchAgentDebUrl } from "../runner-images/names";

export interface BootstrapSettings {
  /** SSM path prefix of the per-instance JIT config parameters, e.g. /cirunners/dev/runners. */
  CIRUNNERS_PARAMETER_PREFIX: string;
  /** S3 bucket of the runner binary cache. */
  CIRUNNERS_RUNNER_CACHE_BUCKET: string;
  CIRUNNERS_RUNNER_ARCH: "x64" | "arm64";
  /** CloudWatch log group for bootstrap and runner logs (stream: the instance id). */
  CIRUNNERS_LOG_GROUP: string;
  /** How long to wait for the launcher to write the JIT config after the instance started. */
  CIRUNNERS_PARAMETER_WAIT_SECONDS: number;
  /** The pool's name: the start-failure metric's dimension and the report's log line. */
  CIRUNNERS_POOL: string;
  /** Docker engine with the runner user in the docker group. */
  CIRUNNERS_DOCKER: boolean;
  /** Passwordless sudo for the runner user. */
  CIRUNNERS_SUDO: boolean;
}

/**
 * The fixed token of the log line a runner that ends before taking a job writes (`<token> pool=… instance=…
 * reason=…`): a CloudWatch Logs metric filter or a Logs Insights query can match it.
 */
export const START_FAILURE_TOKEN = "RUNNER_START_FAILURE";

/**
 * Stands for the instance id in `CIRUNNERS_RUNNER_PARAMETER_TEMPLATE`; the script substitutes its own id. SSM
 * parameter names cannot contain braces, so the placeholder never collides with a real name.
 */
export const INSTANCE_ID_PLACEHOLDER = "{instance-id}";

/** The variables the script reads, as rendered into the user data. */
export interface BootstrapVariables {
  /** What the script replaces with its instance id in the parameter template. */
  CIRUNNERS_INSTANCE_ID_PLACEHOLDER: string;
  /** The JIT config parameter's name, with the placeholder for the instance id. */
  CIRUNNERS_RUNNER_PARAMETER_TEMPLATE: string;
  /** Cache keys of the runner tarball and its manifest for the pool's architecture. */
  CIRUNNERS_RUNNER_TARBALL_KEY: string;
  CIRUNNERS_RUNNER_MANIFEST_KEY: string;
  CIRUNNERS_RUNNER_CACHE_BUCKET: string;
  CIRUNNERS_RUNNER_ARCH: "x64" | "arm64";
  CIRUNNERS_LOG_GROUP: string;
  CIRUNNERS_PARAMETER_WAIT_SECONDS: number;
}

/** The variables beyond the core set: the pool's choices, the image marker, the report's names, tool URLs. */
export interface RunnerBootstrapVariables extends BootstrapVariables {
  CIRUNNERS_POOL: string;
  CIRUNNERS_DOCKER: "true" | "false";
  CIRUNNERS_SUDO: "true" | "false";
  /** Present on a baked image: the bootstrap installs nothing. */
  CIRUNNERS_IMAGE_MARKER: string;
  CIRUNNERS_METRICS_NAMESPACE: string;
  CIRUNNERS_START_FAILURE_METRIC: string;
  CIRUNNERS_POOL_DIMENSION: string;
  CIRUNNERS_START_FAILURE_TOKEN: string;
  /** The CloudWatch agent's Ubuntu package and the AWS CLI installer for the pool's architecture. */
  CIRUNNERS_CW_AGENT_DEB_URL: string;
  CIRUNNERS_AWS_CLI_URL: string;
}

/** The script's variables for these settings: the shared names computed by the contract's rules. */
export function bootstrapVariables(settings: BootstrapSettings): RunnerBootstrapVariables {
  const arch = settings.CIRUNNERS_RUNNER_ARCH;
  return {
    CIRUNNERS_POOL: settings.CIRUNNERS_POOL,
    CIRUNNERS_DOCKER: settings.CIRUNNERS_DOCKER ? "true" : "false",
    CIRUNNERS_SUDO: settings.CIRUNNERS_SUDO ? "true" : "false",
    CIRUNNERS_IMAGE_MARKER: BAKED_IMAGE_MARKER,
    CIRUNNERS_METRICS_NAMESPACE: METRICS_NAMESPACE,
    CIRUNNERS_START_FAILURE_METRIC: METRIC.runnerStartFailures,
    CIRUNNERS_POOL_DIMENSION: POOL_DIMENSION,
    CIRUNNERS_START_FAILURE_TOKEN: START_FAILURE_TOKEN,
    CIRUNNERS_CW_AGENT_DEB_URL: cloudWatchAgentDebUrl(arch),
    CIRUNNERS_AWS_CLI_URL: awsCliUrl(arch),
    CIRUNNERS_INSTANCE_ID_PLACEHOLDER: INSTANCE_ID_PLACEHOLDER,
    CIRUNNERS_RUNNER_PARAMETER_TEMPLATE: runnerParameterName(
      settings.CIRUNNERS_PARAMETER_PREFIX,
      INSTANCE_ID_PLACEHOLDER,
    ),
    CIRUNNERS_RUNNER_TARBALL_KEY: runnerCacheKey(settings.CIRUNNERS_RUNNER_ARCH),
    CIRUNNERS_RUNNER_MANIFEST_KEY: runnerCacheManifestKey(settings.CIRUNNERS_RUNNER_ARCH),
    CIRUNNERS_RUNNER_CACHE_BUCKET: settings.CIRUNNERS_RUNNER_CACHE_BUCKET,
    CIRUNNERS_RUNNER_ARCH: settings.CIRUNNERS_RUNNER_ARCH,
    CIRUNNERS_LOG_GROUP: settings.CIRUNNERS_LOG_GROUP,
    CIRUNNERS_PARAMETER_WAIT_SECONDS: settings.CIRUNNERS_PARAMETER_WAIT_SECONDS,
  };
}

/** EC2 accepts at most 16 KB of user data (before base64). */
export const USER_DATA_LIMIT_BYTES = 16 * 1024;

export const BOOTSTRAP_SCRIPT_PATH = join(__dirname, "..", "..", "runtime", "bootstrap", "bootstrap.sh");

export function readBootstrapScript(): string {
  return readFileSync(BOOTSTRAP_SCRIPT_PATH, "utf8");
}

/** Single-quotes a value for POSIX shells: `it's` → `'it'\''s'`. */
export function shellQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

function check(settings: BootstrapSettings): void {
  const problems: string[] = [];
  if (!/^\/[A-Za-z0-9_.\-/]+$/.test(settings.CIRUNNERS_PARAMETER_PREFIX))
    problems.push("CIRUNNERS_PARAMETER_PREFIX must be an SSM path starting with /");
  if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(settings.CIRUNNERS_RUNNER_CACHE_BUCKET))
    problems.push("CIRUNNERS_RUNNER_CACHE_BUCKET must be an S3 bucket name");
  if (settings.CIRUNNERS_RUNNER_ARCH !== "x64" && settings.CIRUNNERS_RUNNER_ARCH !== "arm64")
    problems.push("CIRUNNERS_RUNNER_ARCH must be x64 or arm64");
  if (!/^[A-Za-z0-9_.\-/#]{1,512}$/.test(settings.CIRUNNERS_LOG_GROUP))
    problems.push("CIRUNNERS_LOG_GROUP must be a CloudWatch log group name");
  if (!/^[A-Za-z0-9][A-Za-z0-9-]{0,62}$/.test(settings.CIRUNNERS_POOL))
    problems.push("CIRUNNERS_POOL must be a pool name (letters, digits, hyphens)");
  const wait = settings.CIRUNNERS_PARAMETER_WAIT_SECONDS;
  if (!Number.isInteger(wait) || wait < 1 || wait > 3600)
    problems.push("CIRUNNERS_PARAMETER_WAIT_SECONDS must be an integer from 1 to 3600");
  if (problems.length) throw new Error(`invalid bootstrap settings: ${problems.join("; ")}`);
}

/** The user data for a pool's launch template. Throws when a setting is invalid or the result exceeds 16 KB. */
export function renderUserData(settings: BootstrapSettings, script: string = readBootstrapScript()): string {
  check(settings);
  const [first, ...rest] = script.split("\n");
  if (!first.startsWith("#!")) throw new Error("the bootstrap script must start with a shebang line");
  const variables = bootstrapVariables(settings);
  const exports = (Object.keys(variables) as Array<keyof RunnerBootstrapVariables>)
    .sort()
    .map((name) => `export ${name}=${shellQuote(String(variables[name]))}`);
  const userData = [first, ...exports, ...rest].join("\n");
  const size = Buffer.byteLength(userData, "utf8");
  if (size > USER_DATA_LIMIT_BYTES)
    throw new Error(`user data is ${size} bytes, over EC2's limit of ${USER_DATA_LIMIT_BYTES}`);
  return userData;
}
