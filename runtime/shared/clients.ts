/** What a function builds once per container from its settings: clients, and where to launch. */
import type { SSMClient } from "@aws-sdk/client-ssm";
import { locationOfArn } from "../../contract/arn.js";
import { ENV } from "../../contract/names.js";
import type { SettingsOf } from "../../contract/settings.js";
import { GitHubApp } from "../adapters/github/app-auth.js";
import { secretReader } from "../adapters/ssm.js";
import type { LaunchEnvironment } from "../services/launch-runners.js";

/**
 * `GitHubApp` keeps the key once it has read a valid one; a parameter read that turned out not to hold a key must
 * not be served again from Powertools' cache, so the parameter cache is not used for it.
 */
const APP_KEY_MAX_AGE_SECONDS = 0;

export interface GitHubAppSettings {
  [ENV.appId]: number;
  [ENV.appPrivateKeyParameter]: string;
  [ENV.githubApiUrl]: string;
}

/** The container's GitHub App, its private key read from SSM (SecureString) on first use. */
export function gitHubAppFrom(settings: GitHubAppSettings, ssm: SSMClient): GitHubApp {
  const readSecret = secretReader(ssm);
  return new GitHubApp({
    appId: settings[ENV.appId],
    baseUrl: settings[ENV.githubApiUrl],
    privateKey: () => readSecret(settings[ENV.appPrivateKeyParameter], APP_KEY_MAX_AGE_SECONDS),
  });
}

/** Where the launcher's and the warm pool's settings say to launch; location from the function's own ARN. */
export function launchEnvironmentFrom(
  settings: Pick<
    SettingsOf<"launcher">,
    typeof ENV.stack | typeof ENV.subnetIds | typeof ENV.runnerParameterPrefix | typeof ENV.runnerGroupId
  >,
  functionArn: string,
): LaunchEnvironment {
  return {
    stack: settings[ENV.stack],
    location: locationOfArn(functionArn),
    subnetIds: settings[ENV.subnetIds],
    parameterPrefix: settings[ENV.runnerParameterPrefix],
    runnerGroupId: settings[ENV.runnerGroupId],
  };
}
