/**
 * The GitHub Actions variables that tell a task's repositories where to push and what to start: one variable per
 * name on each repository, through a provider for each repository owner.
 */
import * as github from "@pulumi/github";
import * as pulumi from "@pulumi/pulumi";
import type { TaskRunnerVariableNames } from "./task-definition";

export interface GitHubActionsVariablesArgs {
  /** The variables' names (`githubVariableNames`). */
  readonly names: TaskRunnerVariableNames;
  /** The value of each variable. */
  readonly values: Record<keyof TaskRunnerVariableNames, pulumi.Input<string>>;
  /** `owner/repository` of every repository that gets the variables. */
  readonly repositories: readonly string[];
  /** Owner (organization or user) of the default GitHub provider. */
  readonly githubOwner: string;
  /**
   * Explicit GitHub provider for `githubOwner`.
   * @default the stack's default GitHub provider
   */
  readonly githubProvider?: github.Provider;
}

export class GitHubActionsVariables extends pulumi.ComponentResource {
  constructor(name: string, args: GitHubActionsVariablesArgs, opts?: pulumi.ComponentResourceOptions) {
    super("cirunners:index:GitHubActionsVariables", name, {}, opts);
    const providers = new Map<string, github.Provider | undefined>([
      [args.githubOwner.toLowerCase(), args.githubProvider],
    ]);
    for (const repository of args.repositories) {
      const [owner, repositoryName] = repository.split("/");
      if (!providers.has(owner.toLowerCase())) {
        // A repository of another owner: a provider for that owner (same credentials as the default provider).
        providers.set(
          owner.toLowerCase(),
          new github.Provider(`${name}-github-${owner.toLowerCase()}`, { owner }, { parent: this }),
        );
      }
      const provider = providers.get(owner.toLowerCase());
      for (const key of Object.keys(args.values) as (keyof TaskRunnerVariableNames)[]) {
        new github.ActionsVariable(
          `${name}-${owner}-${repositoryName}-${key}`.toLowerCase(),
          { repository: repositoryName, variableName: args.names[key], value: args.values[key] },
          { parent: this, provider },
        );
      }
    }
    this.registerOutputs({});
  }
}
