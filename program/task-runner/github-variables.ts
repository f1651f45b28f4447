/**
 * GitHub Actions variables on repositories (where a task's repositories push and what they start; where the AI
 * review finds its role): one variable per name on each repository, through a provider for each repository owner.
 */
import * as github from "@pulumi/github";
import * as pulumi from "@pulumi/pulumi";

export interface GitHubActionsVariablesArgs {
  /** The variables' names, by key (e.g. `githubVariableNames`). */
  readonly names: Readonly<Record<string, string>>;
  /** The value of each variable, by the same keys (every key needs a name). */
  readonly values: Readonly<Record<string, pulumi.Input<string>>>;
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
    const unnamed = Object.keys(args.values).filter((key) => !args.names[key]);
    if (unnamed.length > 0) throw new Error(`GitHub variables without a name: ${unnamed.join(", ")}`);
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
      for (const key of Object.keys(args.values)) {
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
