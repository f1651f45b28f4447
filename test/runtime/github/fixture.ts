/** Shared set-up for tests that talk to the GitHub stand-in as a GitHub App whose key lives in (moto's) SSM. */
import { generateKeyPairSync } from "node:crypto";
import { PutParameterCommand, SSMClient } from "@aws-sdk/client-ssm";
import { ENV } from "../../../contract/names.js";
import type { GitHubApp } from "../../../runtime/adapters/github/app-auth.js";
import { gitHubAppFrom } from "../../../runtime/shared/clients.js";
import { startGitHubApi, type GitHubApi } from "../../../testkit/github/server.js";
import type { MotoServer } from "../../../testkit/moto.js";

export const APP_ID = 424242;
export const PRIVATE_KEY_PARAMETER = "/cirunners/test/github-app/private-key";

let cachedKey: string | undefined;

/** An RSA key for the test App (generated once per process: 2048-bit generation takes a moment). */
export function appPrivateKey(): string {
  cachedKey ??= generateKeyPairSync("rsa", { modulusLength: 2048 })
    .privateKey.export({ type: "pkcs1", format: "pem" })
    .toString();
  return cachedKey;
}

/**
 * Starts the stand-in, stores the App key in SSM (moto must be running and AWS_ENDPOINT_URL set) and points the
 * App environment variables at both.
 */
export async function startAppEnvironment(installations: Record<string, number>): Promise<GitHubApi> {
  const github = await startGitHubApi({ appId: APP_ID, appPrivateKey: appPrivateKey(), installations });
  await storeAppKey();
  process.env[ENV.appId] = String(APP_ID);
  process.env[ENV.appPrivateKeyParameter] = PRIVATE_KEY_PARAMETER;
  process.env[ENV.githubApiUrl] = github.url;
  return github;
}

/**
 * A clean slate between tests: moto emptied, the App key stored again, the stand-in's state forgotten (build a
 * new `testGitHubApp` afterwards: the stand-in no longer knows the tokens an earlier one cached).
 */
export async function resetAppEnvironment(moto: MotoServer, github: GitHubApi): Promise<void> {
  await moto.reset();
  await storeAppKey();
  github.reset();
}

/** A fresh container's GitHub App for the stand-in at `url`, its key read from (moto's) SSM. */
export function testGitHubApp(url: string): GitHubApp {
  return gitHubAppFrom(
    { [ENV.appId]: APP_ID, [ENV.appPrivateKeyParameter]: PRIVATE_KEY_PARAMETER, [ENV.githubApiUrl]: url },
    new SSMClient({}),
  );
}

/** (Re-)stores the App key in SSM, e.g. after a moto reset. */
export async function storeAppKey(): Promise<void> {
  await new SSMClient({}).send(
    new PutParameterCommand({
      Name: PRIVATE_KEY_PARAMETER,
      Type: "SecureString",
      Value: appPrivateKey(),
      Overwrite: true,
    }),
  );
}
