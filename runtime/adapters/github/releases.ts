/** Reading an `actions/runner` release (`repos/get-latest-release`, `repos/get-release-by-tag` in GitHub's OpenAPI). */
import type { Release } from "../../core/runner-cache/release.js";
import { releaseRoute } from "../../core/runner-cache/release.js";
import type { GitHubClient } from "./app-auth.js";

export async function fetchRunnerRelease(client: GitHubClient, version: string): Promise<Release> {
  const { route, tag } = releaseRoute(version);
  const response = tag ? await client.request(route, { tag }) : await client.request(route);
  return response.data as Release;
}
