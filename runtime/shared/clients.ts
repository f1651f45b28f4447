/** Clients a function builds once per container from its settings. */
import type { SSMClient } from "@aws-sdk/client-ssm";
import { ENV } from "../../contract/names.js";
import { GitHubApp } from "../adapters/github/app-auth.js";
import { secretReader } from "../adapters/ssm.js";

/** The App key changes only on rotation; a day in the container saves an SSM call per cold path. */
const APP_KEY_MAX_AGE_SECONDS = 24 * 3600;

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
