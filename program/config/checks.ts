/**
 * Checks across keys (and across stack file namespaces), run on the raw input beside the schema so that a user
 * sees every problem in one run: a zod refinement on an object is skipped as soon as one of its fields is wrong,
 * which would surface these only after the field errors were fixed. Each reads the input defensively (it has not
 * been validated) and leaves shapes to the schema.
 */
import { ambiguousLabelSets } from "../../contract/pool";
import { describe } from "./errors";
import { AWS_REGIONS, PROJECT, regionMessage } from "./primitives";
import { CONNECTION_NAME, codebuildProjectName, STACK_NAMES, type StackDerivedName, stackNameProblems } from "./names";

/** What the checks know besides the project's keys. */
export interface CheckContext {
  stack: string;
  /** `aws:region`. */
  region?: string;
  /** `github:owner`: the GitHub provider's owner, when the stack file sets it. */
  githubOwner?: string;
  /** The stack file, for messages. */
  file: string;
}

type Raw = Record<string, unknown>;
const object = (value: unknown): Raw | undefined =>
  value !== null && typeof value === "object" && !Array.isArray(value) ? (value as Raw) : undefined;
const array = (value: unknown): unknown[] => (Array.isArray(value) ? value : []);
const string = (value: unknown): string | undefined => (typeof value === "string" ? value : undefined);

const EXISTING_NETWORK_KEYS = ["vpcId", "privateSubnetIds"];
const CREATED_NETWORK_KEYS = ["cidrBlock", "availabilityZones", "natGateways", "flowLogRetentionDays"];

/** True when `network` mixes both modes: the caller drops the schema's "unknown key" issues for it. */
export function mixesNetworkModes(raw: Raw): boolean {
  const network = object(raw.network);
  if (!network) return false;
  return EXISTING_NETWORK_KEYS.some((k) => k in network) && CREATED_NETWORK_KEYS.some((k) => k in network);
}

export function crossChecks(raw: Raw, context: CheckContext): string[] {
  return [
    ...regionProblems(context.region),
    ...ownerProblems(raw, context.githubOwner),
    ...networkProblems(raw),
    ...poolProblems(raw),
    ...codebuildProblems(raw, context),
    ...stackNameProblems(context.stack, derivedNames(raw), context.file),
  ];
}

function regionProblems(region: string | undefined): string[] {
  if (!region) return ["aws:region: expected an AWS region like eu-west-1, found nothing"];
  return AWS_REGIONS.includes(region) ? [] : [`aws:region: ${regionMessage(region)}, found ${describe(region)}`];
}

function ownerProblems(raw: Raw, providerOwner: string | undefined): string[] {
  const owner = string(object(raw.github)?.owner);
  if (providerOwner === undefined || owner === undefined) return [];
  // GitHub logins are case-insensitive; the provider and the functions would reach the same account.
  if (providerOwner.toLowerCase() === owner.toLowerCase()) return [];
  return [
    `github:owner: the GitHub provider would create the webhook and runner group in "${providerOwner}" while ${PROJECT}:github.owner is "${owner}": set both to the same organization`,
  ];
}

function networkProblems(raw: Raw): string[] {
  if (!mixesNetworkModes(raw)) return [];
  const network = object(raw.network) as Raw;
  const existing = EXISTING_NETWORK_KEYS.filter((k) => k in network).join(" and ");
  const created = CREATED_NETWORK_KEYS.filter((k) => k in network).join(" and ");
  return [
    `${PROJECT}:network: ${existing} (use an existing VPC) and ${created} (create a VPC) exclude each other; keep one set`,
  ];
}

function poolProblems(raw: Raw): string[] {
  const problems: string[] = [];
  const runners = object(raw.runners);
  const pools = array(runners?.pools)
    .map((pool, index) => ({ index, pool: object(pool) }))
    .filter((p): p is { index: number; pool: Raw } => p.pool !== undefined);
  const firstByName = new Map<string, number>();
  for (const { index, pool } of pools) {
    const name = string(pool.name);
    if (name === undefined) continue;
    const first = firstByName.get(name);
    if (first === undefined) firstByName.set(name, index);
    else
      problems.push(
        `${PROJECT}:runners.pools[${index}].name: duplicate pool name (also pools[${first}]), found ${describe(name)}`,
      );
  }
  const labelled = pools
    .map(({ index, pool }) => ({ index, name: string(pool.name) ?? `pools[${index}]`, labels: array(pool.labels) }))
    .filter((p) => p.labels.length > 0 && p.labels.every((l) => typeof l === "string"))
    .map((p) => ({ ...p, labels: p.labels as string[] }));
  for (const [a, b] of ambiguousLabelSets(labelled)) {
    problems.push(
      `${PROJECT}:runners.pools[${b.index}].labels: same label set as pools[${a.index}] (pools "${a.name}" and "${b.name}"): GitHub could give a job of either to a runner of the other; add a label to one of them, found ${describe(b.labels)}`,
    );
  }
  if (string(object(raw.github)?.scope) === "repo") {
    for (const { index, pool } of pools) {
      // A repository runner serves one repository, so an idle warm runner could not take any job of the pool.
      if (pool.warmPool !== undefined)
        problems.push(
          `${PROJECT}:runners.pools[${index}].warmPool: warm pools need github.scope "org" (an idle repository runner serves only one repository), found scope "repo"`,
        );
    }
  }
  return problems;
}

function codebuildProblems(raw: Raw, context: CheckContext): string[] {
  const codebuild = object(raw.codebuild);
  if (!codebuild) return [];
  const problems: string[] = [];
  const github = object(raw.github);
  array(codebuild.regions).forEach((entry, i) => {
    const r = object(entry);
    if (!r) return;
    const where = `${PROJECT}:codebuild.regions[${i}]`;
    const hasVpc = r.vpcId !== undefined;
    const hasSubnets = r.privateSubnetIds !== undefined;
    if (!hasVpc && hasSubnets)
      problems.push(`${where}.vpcId: expected the VPC of the given privateSubnetIds, found nothing`);
    if (hasVpc && !hasSubnets)
      problems.push(`${where}.privateSubnetIds: expected the private subnets of ${String(r.vpcId)}, found nothing`);
    const region = string(r.region);
    if (!hasVpc && !hasSubnets && region !== undefined && context.region !== undefined && region !== context.region)
      problems.push(
        `${where}.vpcId: expected a VPC id and privateSubnetIds for ${region} (only the stack's own region ${context.region} can use the stack's network), found nothing`,
      );
  });
  const repositories = array(codebuild.repositories);
  // A project has one webhook; in repo scope it is a repository webhook, which serves exactly one repository.
  if (string(github?.scope) === "repo" && repositories.length !== 1)
    problems.push(
      `${PROJECT}:codebuild.repositories: with github.scope "repo" a CodeBuild project listens to exactly one repository (a repository webhook), found ${repositories.length}; use github.scope "org" for an organization webhook filtered to several repositories`,
    );
  const apiUrl = string(github?.apiUrl);
  if (apiUrl !== undefined && apiUrl !== "" && !apiUrl.startsWith("https://api.github.com"))
    problems.push(`${PROJECT}:codebuild: CodeBuild-hosted runners need github.com, found github.apiUrl ${apiUrl}`);
  return problems;
}

/** The stack-derived names this configuration creates (CodeBuild's only when it is configured). */
function derivedNames(raw: Raw): StackDerivedName[] {
  const names = [...STACK_NAMES];
  const codebuild = object(raw.codebuild);
  if (!codebuild) return names;
  if (codebuild.connectionName === undefined) names.push(CONNECTION_NAME);
  for (const entry of array(codebuild.regions)) {
    const region = string(object(entry)?.region);
    if (region !== undefined) names.push(codebuildProjectName(region));
  }
  return names;
}
