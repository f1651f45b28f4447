/**
 * Pulumi mocks that behave like the AWS, GitHub and random providers closely enough for the program to run
 * offline: every resource gets a stable id and the ARN/URL/name AWS would give it, so IAM documents resolve to
 * concrete ARNs that tests and the policy pack can check. A recorder keeps what was registered, with parents.
 */
import * as pulumi from "@pulumi/pulumi";
import { createHash } from "node:crypto";

export const MOCK_ACCOUNT_ID = "123456789012";

export interface RecordedResource {
  /** Pulumi type token, e.g. aws:sqs/queue:Queue. */
  type: string;
  /** Logical name. */
  name: string;
  urn: string;
  /** URN of the parent (undefined for the stack's direct children). */
  parentUrn?: string;
  custom: boolean;
  /** Inputs as the provider would receive them (resolved; secrets unwrapped). */
  inputs: Record<string, any>;
  /** Inputs in Pulumi's wire form (secrets, assets and unknowns still marked): see testkit/wire.ts. */
  wireInputs: Record<string, any>;
  /** State the mock returned (inputs plus computed outputs). */
  state: Record<string, any>;
  /** The provider reference, when explicit. */
  provider?: string;
}

function shortHash(...parts: string[]): string {
  return createHash("sha256").update(parts.join("\u0000")).digest("hex");
}

/** Pulumi auto-naming: logical name plus a 7-character suffix (stable here, random in Pulumi). */
function autoName(name: string, type: string): string {
  return `${name}-${shortHash(type, name).slice(0, 7)}`;
}

/** Type tokens of remote components (whose children a provider plugin creates) and the outputs they expose. */
function remoteComponentState(
  type: string,
  name: string,
  inputs: Record<string, any>,
): Record<string, any> | undefined {
  if (type !== "awsx:ec2:Vpc") return undefined;
  const azs: number = inputs.numberOfAvailabilityZones ?? 2;
  const id = (kind: string, i: number) => `${kind}-${shortHash(name, kind, String(i)).slice(0, 17)}`;
  const privateSubnetIds = Array.from({ length: azs }, (_, i) => id("subnet", i));
  const publicSubnetIds = Array.from({ length: azs }, (_, i) => id("subnet", 100 + i));
  return {
    ...inputs,
    vpcId: `vpc-${shortHash(name, "vpc").slice(0, 17)}`,
    privateSubnetIds,
    publicSubnetIds,
    isolatedSubnetIds: [],
    routeTables: Array.from({ length: azs * 2 }, (_, i) => ({ id: id("rtb", i) })),
  };
}

export interface MockOptions {
  /** Default region (aws:region). */
  region: string;
  accountId?: string;
}

/**
 * Mocks for `pulumi.runtime.setMocks`. Resources get the ids and identifiers AWS would assign; invokes
 * answer the data sources the program uses. An invoke it does not know fails with its token, so a new data
 * source cannot silently return nothing.
 */
export class CloudMocks implements pulumi.runtime.Mocks {
  private readonly providerRegions = new Map<string, string>();
  readonly accountId: string;

  constructor(private readonly options: MockOptions) {
    this.accountId = options.accountId ?? MOCK_ACCOUNT_ID;
  }

  private regionOf(args: pulumi.runtime.MockResourceArgs): string {
    if (typeof args.inputs.region === "string") return args.inputs.region;
    if (args.provider) {
      const providerId = args.provider.split("::").pop() ?? "";
      const region = this.providerRegions.get(providerId);
      if (region) return region;
    }
    return this.options.region;
  }

  newResource(args: pulumi.runtime.MockResourceArgs): { id: string; state: Record<string, any> } {
    const { type, name, inputs } = args;
    const remote = remoteComponentState(type, name, inputs);
    if (remote) return { id: "", state: remote };
    if (args.custom === false) return { id: "", state: inputs };

    const region = this.regionOf(args);
    const account = this.accountId;
    const hex = shortHash(type, name, region);
    const id17 = hex.slice(0, 17);
    const state: Record<string, any> = { ...inputs };
    let id = inputs.name ?? `${name}-${hex.slice(0, 7)}`;
    const named = (fallback = autoName(name, type)) =>
      (state.name = inputs.name ?? (inputs.namePrefix ? `${inputs.namePrefix}${hex.slice(0, 26)}` : fallback));

    switch (type) {
      case "pulumi:providers:aws":
        id = `provider-${hex.slice(0, 12)}`;
        this.providerRegions.set(id, inputs.region ?? this.options.region);
        break;
      case "aws:iam/role:Role":
        id = named();
        state.arn = `arn:aws:iam::${account}:role${inputs.path ?? "/"}${state.name}`;
        state.uniqueId = `AROA${hex.slice(0, 17).toUpperCase()}`;
        break;
      case "aws:iam/policy:Policy":
        named();
        state.arn = `arn:aws:iam::${account}:policy${inputs.path ?? "/"}${state.name}`;
        id = state.arn;
        break;
      case "aws:iam/instanceProfile:InstanceProfile":
        id = named();
        state.arn = `arn:aws:iam::${account}:instance-profile/${state.name}`;
        break;
      case "aws:iam/openIdConnectProvider:OpenIdConnectProvider": {
        const host = String(inputs.url ?? "").replace(/^https:\/\//, "");
        state.arn = `arn:aws:iam::${account}:oidc-provider/${host}`;
        id = state.arn;
        break;
      }
      case "aws:iam/rolePolicy:RolePolicy":
        id = `${inputs.role}:${inputs.name ?? autoName(name, type)}`;
        break;
      case "aws:sqs/queue:Queue": {
        const base = inputs.name ?? autoName(name, type);
        state.name = inputs.fifoQueue && !base.endsWith(".fifo") ? `${base}.fifo` : base;
        state.arn = `arn:aws:sqs:${region}:${account}:${state.name}`;
        state.url = `https://sqs.${region}.amazonaws.com/${account}/${state.name}`;
        id = state.url;
        break;
      }
      case "aws:lambda/function:Function":
        id = named();
        state.arn = `arn:aws:lambda:${region}:${account}:function:${state.name}`;
        state.invokeArn = `arn:aws:apigateway:${region}:lambda:path/2015-03-31/functions/${state.arn}/invocations`;
        state.qualifiedArn = `${state.arn}:$LATEST`;
        state.version = "$LATEST";
        break;
      case "aws:cloudwatch/logGroup:LogGroup":
        id = named();
        state.arn = `arn:aws:logs:${region}:${account}:log-group:${state.name}`;
        break;
      case "aws:s3/bucket:Bucket":
      case "aws:s3/bucketV2:BucketV2":
        state.bucket =
          inputs.bucket ?? (inputs.bucketPrefix ? `${inputs.bucketPrefix}${hex.slice(0, 26)}` : autoName(name, type));
        state.arn = `arn:aws:s3:::${state.bucket}`;
        state.bucketRegionalDomainName = `${state.bucket}.s3.${region}.amazonaws.com`;
        id = state.bucket;
        break;
      case "aws:ssm/parameter:Parameter":
        id = named();
        state.arn = `arn:aws:ssm:${region}:${account}:parameter/${String(state.name).replace(/^\//, "")}`;
        break;
      case "aws:secretsmanager/secret:Secret":
        named();
        state.arn = `arn:aws:secretsmanager:${region}:${account}:secret:${state.name}-${hex.slice(0, 6)}`;
        id = state.arn;
        break;
      case "aws:ecr/repository:Repository":
        id = named();
        state.arn = `arn:aws:ecr:${region}:${account}:repository/${state.name}`;
        state.repositoryUrl = `${account}.dkr.ecr.${region}.amazonaws.com/${state.name}`;
        state.registryId = account;
        break;
      case "aws:ecs/cluster:Cluster":
        named();
        state.arn = `arn:aws:ecs:${region}:${account}:cluster/${state.name}`;
        id = state.arn;
        break;
      case "aws:ecs/taskDefinition:TaskDefinition":
        state.revision = 1;
        state.arnWithoutRevision = `arn:aws:ecs:${region}:${account}:task-definition/${inputs.family}`;
        state.arn = `${state.arnWithoutRevision}:1`;
        id = inputs.family;
        break;
      case "aws:sfn/stateMachine:StateMachine":
        named();
        state.arn = `arn:aws:states:${region}:${account}:stateMachine:${state.name}`;
        id = state.arn;
        break;
      case "aws:sns/topic:Topic":
        named();
        state.arn = `arn:aws:sns:${region}:${account}:${state.name}`;
        id = state.arn;
        break;
      case "aws:kms/key:Key":
        id = `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
        state.keyId = id;
        state.arn = `arn:aws:kms:${region}:${account}:key/${id}`;
        break;
      case "aws:kms/alias:Alias":
        id = inputs.name;
        state.arn = `arn:aws:kms:${region}:${account}:${inputs.name}`;
        break;
      case "aws:ec2/launchTemplate:LaunchTemplate":
        id = `lt-${id17}`;
        named();
        state.arn = `arn:aws:ec2:${region}:${account}:launch-template/${id}`;
        state.latestVersion = 1;
        state.defaultVersion = 1;
        break;
      case "aws:ec2/securityGroup:SecurityGroup":
        id = `sg-${id17}`;
        named();
        state.arn = `arn:aws:ec2:${region}:${account}:security-group/${id}`;
        break;
      case "aws:ec2/vpcEndpoint:VpcEndpoint":
        id = `vpce-${id17}`;
        state.arn = `arn:aws:ec2:${region}:${account}:vpc-endpoint/${id}`;
        break;
      case "aws:ec2/flowLog:FlowLog":
        id = `fl-${id17}`;
        state.arn = `arn:aws:ec2:${region}:${account}:vpc-flow-log/${id}`;
        break;
      case "aws:apigatewayv2/api:Api":
        id = hex.slice(0, 10);
        state.apiEndpoint = `https://${id}.execute-api.${region}.amazonaws.com`;
        state.executionArn = `arn:aws:execute-api:${region}:${account}:${id}`;
        state.arn = `arn:aws:apigateway:${region}::/apis/${id}`;
        break;
      case "aws:apigatewayv2/stage:Stage":
        id = inputs.name ?? "$default";
        state.invokeUrl = `https://${inputs.apiId}.execute-api.${region}.amazonaws.com/${id === "$default" ? "" : id}`;
        break;
      case "aws:codebuild/project:Project":
        id = named();
        state.arn = `arn:aws:codebuild:${region}:${account}:project/${state.name}`;
        state.badgeUrl = "";
        break;
      case "aws:codebuild/webhook:Webhook":
        id = inputs.projectName;
        state.url = `https://codebuild.${region}.amazonaws.com/webhooks?t=${hex.slice(0, 20)}`;
        state.payloadUrl = state.url;
        break;
      case "aws:codeconnections/connection:Connection":
      case "aws:codestarconnections/connection:Connection": {
        const service = type.startsWith("aws:codeconnections") ? "codeconnections" : "codestar-connections";
        state.arn = `arn:aws:${service}:${region}:${account}:connection/${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
        state.connectionStatus = "PENDING";
        id = state.arn;
        break;
      }
      case "aws:cloudwatch/eventRule:EventRule":
        id = named();
        state.arn = `arn:aws:events:${region}:${account}:rule/${state.name}`;
        break;
      case "aws:scheduler/schedule:Schedule":
        id = named();
        state.arn = `arn:aws:scheduler:${region}:${account}:schedule/${inputs.groupName ?? "default"}/${state.name}`;
        break;
      case "aws:cloudwatch/metricAlarm:MetricAlarm":
        id = named();
        state.arn = `arn:aws:cloudwatch:${region}:${account}:alarm:${state.name}`;
        break;
      case "aws:lambda/eventSourceMapping:EventSourceMapping":
        id = shortHash(name, "esm").slice(0, 36);
        state.uuid = id;
        state.functionArn = inputs.functionName;
        break;
      case "aws:eks/accessEntry:AccessEntry":
        id = `${inputs.clusterName}:${inputs.principalArn}`;
        state.accessEntryArn = `arn:aws:eks:${region}:${account}:access-entry/${inputs.clusterName}/role/${hex.slice(0, 12)}`;
        break;
      case "random:index/randomPassword:RandomPassword":
      case "random:index/randomString:RandomString":
        state.result = hex.slice(0, inputs.length ?? 32);
        id = "none";
        break;
      case "random:index/randomId:RandomId":
        state.hex = hex.slice(0, (inputs.byteLength ?? 8) * 2);
        id = state.hex;
        break;
      case "github:index/organizationWebhook:OrganizationWebhook":
      case "github:index/repositoryWebhook:RepositoryWebhook":
        id = String(parseInt(hex.slice(0, 8), 16));
        state.url = `https://api.github.com/hooks/${id}`;
        break;
      case "github:index/actionsRunnerGroup:ActionsRunnerGroup":
        id = String(parseInt(hex.slice(0, 6), 16));
        state.selectedRepositoriesUrl = `https://api.github.com/orgs/runner-groups/${id}/repositories`;
        break;
      default:
        if (type.startsWith("aws:")) {
          // Generic: an id and an ARN in the resource's service namespace.
          const service = type.split(":")[1].split("/")[0];
          id = inputs.name ?? `${name}-${hex.slice(0, 8)}`;
          state.arn = state.arn ?? `arn:aws:${service}:${region}:${account}:${type.split(":")[2].toLowerCase()}/${id}`;
        } else {
          id = `${name}-${hex.slice(0, 8)}`;
        }
    }
    if (state.id === undefined) state.id = id;
    return { id, state };
  }

  call(args: pulumi.runtime.MockCallArgs): Record<string, any> {
    const region = this.options.region;
    switch (args.token) {
      case "aws:index/getCallerIdentity:getCallerIdentity":
        return {
          accountId: this.accountId,
          arn: `arn:aws:iam::${this.accountId}:user/preview`,
          userId: "AIDAPREVIEW",
          id: this.accountId,
        };
      case "aws:index/getRegion:getRegion":
        return {
          name: args.inputs.region ?? region,
          region: args.inputs.region ?? region,
          id: args.inputs.region ?? region,
          endpoint: `ec2.${region}.amazonaws.com`,
          description: region,
        };
      case "aws:index/getPartition:getPartition":
        return { partition: "aws", dnsSuffix: "amazonaws.com", id: "aws", reverseDnsPrefix: "com.amazonaws" };
      case "aws:index/getAvailabilityZones:getAvailabilityZones":
        return {
          names: ["a", "b", "c"].map((z) => `${region}${z}`),
          zoneIds: ["1", "2", "3"].map((z) => `euw1-az${z}`),
          id: region,
        };
      case "aws:ssm/getParameter:getParameter":
        return {
          name: args.inputs.name,
          type: "String",
          value: String(args.inputs.name).includes("ami")
            ? `ami-${shortHash(String(args.inputs.name)).slice(0, 17)}`
            : "mock-value",
          arn: `arn:aws:ssm:${region}:${this.accountId}:parameter/${String(args.inputs.name).replace(/^\//, "")}`,
          id: args.inputs.name,
          version: 1,
          insecureValue: "",
          withDecryption: true,
        };
      case "aws:iam/getOpenIdConnectProvider:getOpenIdConnectProvider":
        return {
          arn: args.inputs.arn ?? `arn:aws:iam::${this.accountId}:oidc-provider/token.actions.githubusercontent.com`,
          url: "token.actions.githubusercontent.com",
          clientIdLists: ["sts.amazonaws.com"],
          thumbprintLists: [],
          id: "oidc",
        };
      case "aws:ec2/getVpc:getVpc":
        return {
          id: args.inputs.id,
          cidrBlock: "10.40.0.0/16",
          arn: `arn:aws:ec2:${region}:${this.accountId}:vpc/${args.inputs.id}`,
        };
      case "aws:ec2/getRouteTables:getRouteTables":
        return { ids: ["rtb-0aaaaaaaaaaaaaaa1", "rtb-0aaaaaaaaaaaaaaa2"], id: "route-tables" };
      case "github:index/getRepository:getRepository": {
        const name = String(args.inputs.name ?? args.inputs.fullName ?? "repository")
          .split("/")
          .pop();
        return {
          id: name,
          name,
          fullName: `${args.inputs.fullName ?? name}`,
          repoId: parseInt(shortHash("repo", String(name)).slice(0, 7), 16),
          nodeId: `R_${shortHash(String(name)).slice(0, 12)}`,
          visibility: "private",
        };
      }
      case "github:index/getActionsRunnerGroup:getActionsRunnerGroup":
        return { id: "1", name: args.inputs.name };
      default:
        throw new Error(
          `the offline mocks have no answer for the data source ${args.token}: add one to testkit/pulumi-mocks.ts`,
        );
    }
  }
}

/**
 * Records every resource registration, with its parent, by wrapping the mock monitor. Call after `setMocks`.
 */
export function recordRegistrations(): RecordedResource[] {
  const recorded: RecordedResource[] = [];
  const monitor = pulumi.runtime.getMonitor() as any;
  if (!monitor || typeof monitor.registerResource !== "function")
    throw new Error("call setMocks before recordRegistrations");
  const original = monitor.registerResource.bind(monitor);
  monitor.registerResource = (req: any, callback: (err: any, resp: any) => void) => {
    original(req, (err: any, resp: any) => {
      if (!err && resp) {
        const urn: string = resp.getUrn();
        const entry = monitor.resources.get(urn);
        recorded.push({
          type: req.getType(),
          name: req.getName(),
          urn,
          parentUrn: req.getParent() || undefined,
          custom: req.getCustom(),
          inputs: pulumi.runtime.deserializeProperties(req.getObject()),
          wireInputs: req.getObject().toJavaScript(),
          state: entry ? pulumi.runtime.deserializeProperties({ toJavaScript: () => entry.state } as any) : {},
          provider: req.getProvider() || undefined,
        });
      }
      callback(err, resp);
    });
  };
  return recorded;
}

/**
 * Installs the mocks for a project/stack and returns the recorder. `preview` false makes every output known,
 * like the result of `pulumi up`, so that documents can be checked in full.
 */
export async function installMocks(
  options: MockOptions & { project?: string; stack?: string; preview?: boolean },
): Promise<{ mocks: CloudMocks; recorded: RecordedResource[] }> {
  const mocks = new CloudMocks(options);
  await pulumi.runtime.setMocks(
    mocks,
    options.project ?? "cirunners",
    options.stack ?? "test",
    options.preview ?? false,
  );
  return { mocks, recorded: recordRegistrations() };
}

/** Every resource registered below `urn`, at any depth, in registration order. */
export function descendantsOf(recorded: RecordedResource[], urn: string): RecordedResource[] {
  const byParent = new Map<string, RecordedResource[]>();
  for (const r of recorded) if (r.parentUrn) byParent.set(r.parentUrn, [...(byParent.get(r.parentUrn) ?? []), r]);
  const out: RecordedResource[] = [];
  const walk = (parent: string) => {
    for (const child of byParent.get(parent) ?? []) {
      out.push(child);
      walk(child.urn);
    }
  };
  walk(urn);
  return out;
}

/**
 * Waits until the program has registered everything: no RPC in flight and no new registration for a few rounds.
 * Children created inside `apply` register only after their inputs resolve, so one wait is not enough.
 */
export async function settleRegistrations(recorded: RecordedResource[], quietMs = 20): Promise<void> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const settings = require("@pulumi/pulumi/runtime/settings") as { waitForRPCs(): Promise<void> };
  let previous = -1;
  let quietRounds = 0;
  while (quietRounds < 3) {
    await settings.waitForRPCs();
    await new Promise((resolve) => setTimeout(resolve, quietMs));
    quietRounds = recorded.length === previous ? quietRounds + 1 : 0;
    previous = recorded.length;
  }
}

/** Resolves an Output (or plain value) to its value in tests. */
export function outputValue<T>(output: pulumi.Input<T>): Promise<T> {
  return new Promise((resolve) =>
    pulumi.output(output).apply((v) => {
      resolve(v as T);
      return v;
    }),
  );
}
