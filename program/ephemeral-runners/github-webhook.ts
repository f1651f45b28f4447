/**
 * GitHub's side of the ingress: where runners register and who sends the `workflow_job` webhook. GitHub resources
 * use the stack's `github` provider (pass one in `opts.providers` to override it); it must act on `github.owner`.
 */
import * as github from "@pulumi/github";
import * as pulumi from "@pulumi/pulumi";
import { runnerTargetsOf, targetKey } from "../../contract/runner-target";
import type { GitHubConfig } from "../config";

/** The webhook's target and GitHub settings. */
export interface GitHubWebhookArgs {
  /** Owner, scope (org|repo), repositories and runner group name. */
  readonly github: GitHubConfig;
  /** The URL GitHub delivers to. */
  readonly url: pulumi.Input<string>;
  /** The webhook secret (HMAC key of `X-Hub-Signature-256`). */
  readonly secret: pulumi.Input<string>;
  /**
   * Resources that must exist before the webhook: GitHub pings a webhook as soon as it exists.
   * @default none
   */
  readonly endpointReady?: pulumi.Resource[];
}

/**
 * Org scope: an organization webhook plus a runner group for the pools (visible to all the organization's private
 * repositories, or only to `github.repositories` when that list is given). Repo scope: one repository webhook per
 * configured repository and no runner group.
 */
export class GitHubWebhook extends pulumi.ComponentResource {
  /** Org scope: the runner group's numeric id; repo scope: undefined. */
  public readonly runnerGroupId?: pulumi.Output<number>;
  /**
   * The id of each webhook by the target it delivers for (`targetKey`: `org:acme`, `repo:acme/app`): the redeliver
   * function lists each hook's failed deliveries through these ids.
   */
  public readonly hookIds: pulumi.Output<Record<string, number>>;

  constructor(name: string, args: GitHubWebhookArgs, opts?: pulumi.ComponentResourceOptions) {
    super("cirunners:index:GitHubWebhook", name, {}, opts);
    const parent = { parent: this };
    const webhookReady = { ...parent, dependsOn: args.endpointReady ?? [] };
    // Explicitly secret: the value must never show in state or diffs, whatever the providers mark.
    const configuration = {
      url: args.url,
      contentType: "json",
      secret: pulumi.secret(args.secret),
      insecureSsl: false,
    };
    const gh = args.github;
    const hooks: pulumi.Output<string>[] = [];
    if (gh.scope === "org") {
      const selectedRepositoryIds = gh.repositories.map(
        (repository) => github.getRepositoryOutput({ fullName: `${gh.owner}/${repository}` }, parent).repoId,
      );
      const group = new github.ActionsRunnerGroup(
        `${name}-runner-group`,
        {
          name: gh.runnerGroup,
          visibility: gh.repositories.length > 0 ? "selected" : "all",
          selectedRepositoryIds: gh.repositories.length > 0 ? selectedRepositoryIds : undefined,
          allowsPublicRepositories: false,
        },
        parent,
      );
      this.runnerGroupId = group.id.apply((id) => Number(id));
      const hook = new github.OrganizationWebhook(
        `${name}-github-webhook`,
        { events: ["workflow_job"], active: true, configuration },
        webhookReady,
      );
      hooks.push(hook.id);
    } else {
      for (const repository of gh.repositories) {
        const hook = new github.RepositoryWebhook(
          `${name}-github-webhook-${repository}`,
          { repository, events: ["workflow_job"], active: true, configuration },
          webhookReady,
        );
        hooks.push(hook.id);
      }
    }
    // The targets come in the same order as the hooks were created: the organization, or each repository.
    const keys = runnerTargetsOf(gh.scope, gh.owner, gh.repositories).map(targetKey);
    // The provider's id of a webhook is GitHub's numeric hook id, as a string.
    this.hookIds = pulumi.all(hooks).apply((ids) => Object.fromEntries(ids.map((id, i) => [keys[i], Number(id)])));
    this.registerOutputs({ runnerGroupId: this.runnerGroupId, hookIds: this.hookIds });
  }
}
