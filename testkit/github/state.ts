/**
 * What the GitHub stand-in knows, apart from HTTP: accounts (users or organizations) and the App's installations on
 * them, installation tokens, and self-hosted runners registered at a runner target (`contract/runner-target.ts`).
 * Each kind of record has a collection of its own, so that jobs and webhook deliveries can join them later.
 */
import { type RunnerTarget, splitRepository, targetKey } from "../../contract/runner-target";

/** GitHub's account types (`account.type` / `target_type` of an installation). */
export type AccountType = "User" | "Organization";

export interface Account {
  login: string;
  type: AccountType;
  /** The App's installation on this account, if the App is installed there. */
  installationId?: number;
}

export interface StandInRunner {
  id: number;
  name: string;
  /** Where the runner is registered (logins and repository names lower-case). */
  target: RunnerTarget;
  /** `targetKey(target)`: "org:<org>" or "repo:<owner>/<repo>". */
  scope: string;
  runnerGroupId: number;
  labels: string[];
  os: string;
  status: "online" | "offline";
  busy: boolean;
  ephemeral: boolean;
  /** What `generate-jitconfig` returned (undefined for runners added directly). */
  encodedJitConfig?: string;
  workFolder?: string;
  createdAt: string;
}

export interface InstallationToken {
  installationId: number;
  expiresAt: number;
}

export type NewRunner = Omit<StandInRunner, "id" | "scope" | "createdAt">;

/** A target with its logins and repository name lower-cased: GitHub compares them case-insensitively. */
export function canonicalTarget(target: RunnerTarget): RunnerTarget {
  return target.kind === "org"
    ? { kind: "org", org: target.org.toLowerCase() }
    : { kind: "repo", owner: target.owner.toLowerCase(), repo: target.repo.toLowerCase() };
}

/** The target a `targetKey` names ("org:acme", "repo:acme/app"). */
export function targetOfKey(key: string): RunnerTarget {
  const separator = key.indexOf(":");
  const kind = key.slice(0, separator);
  const rest = key.slice(separator + 1);
  if (kind === "org" && rest && !rest.includes("/")) return { kind: "org", org: rest };
  if (kind === "repo") {
    const [owner, repo] = splitRepository(rest);
    return { kind: "repo", owner, repo };
  }
  throw new Error(`a runner target key is "org:<org>" or "repo:<owner>/<repo>", got ${JSON.stringify(key)}`);
}

export class GitHubState {
  readonly accounts = new Map<string, Account>();
  readonly tokens = new Map<string, InstallationToken>();
  readonly runners = new Map<number, StandInRunner>();
  private nextRunnerId = 1000;

  /**
   * @param installations login → installation id of the App on that account.
   * @param accountTypes login → account type; a login not listed is an organization.
   */
  constructor(
    installations: Record<string, number>,
    accountTypes: Record<string, AccountType> = {},
    /** The clock (epoch ms): the simulation's runs fast; tests use real time. */
    readonly now: () => number = Date.now,
  ) {
    const types = new Map(Object.entries(accountTypes).map(([login, type]) => [login.toLowerCase(), type]));
    for (const [login, type] of types) this.accounts.set(login, { login, type });
    for (const [login, installationId] of Object.entries(installations)) {
      const key = login.toLowerCase();
      this.accounts.set(key, { login, type: types.get(key) ?? "Organization", installationId });
    }
  }

  account(login: string): Account | undefined {
    return this.accounts.get(login.toLowerCase());
  }

  /** The installation id of the App on an account, if installed there. */
  installationOf(login: string): number | undefined {
    return this.account(login)?.installationId;
  }

  hasInstallation(installationId: number): boolean {
    return [...this.accounts.values()].some((a) => a.installationId === installationId);
  }

  /** The installation a token acts for, while it is valid. */
  tokenInstallation(token: string, now = this.now()): number | undefined {
    const found = this.tokens.get(token);
    return found && found.expiresAt > now ? found.installationId : undefined;
  }

  runnersAt(target: RunnerTarget): StandInRunner[] {
    const key = targetKey(canonicalTarget(target));
    return [...this.runners.values()].filter((r) => r.scope === key);
  }

  runnerAt(target: RunnerTarget, id: number): StandInRunner | undefined {
    const runner = this.runners.get(id);
    return runner && runner.scope === targetKey(canonicalTarget(target)) ? runner : undefined;
  }

  /** A runner by id or by name. */
  runner(idOrName: number | string): StandInRunner | undefined {
    return typeof idOrName === "number"
      ? this.runners.get(idOrName)
      : [...this.runners.values()].find((r) => r.name === idOrName);
  }

  register(runner: NewRunner): StandInRunner {
    const target = canonicalTarget(runner.target);
    const registered: StandInRunner = {
      ...runner,
      id: this.nextRunnerId++,
      target,
      scope: targetKey(target),
      createdAt: new Date(this.now()).toISOString(),
    };
    this.runners.set(registered.id, registered);
    return registered;
  }

  /** Forgets runners and tokens (accounts and installations stay). */
  reset(): void {
    this.runners.clear();
    this.tokens.clear();
  }
}
