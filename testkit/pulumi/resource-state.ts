/**
 * What the offline mocks answer for a resource registration: the id and the state (ARN, URL, name) AWS, GitHub or
 * random would give it, in the region's own partition, so IAM documents resolve to concrete, checkable ARNs.
 */
import { createHash } from "node:crypto";
import type * as pulumi from "@pulumi/pulumi";
import { partitionOf } from "../../contract/arn";

/** Resource inputs and state as the Pulumi mocks carry them: untyped provider properties. */
export type Properties = pulumi.runtime.MockResourceArgs["inputs"];

export function shortHash(...parts: string[]): string {
  return createHash("sha256").update(parts.join("\u0000")).digest("hex");
}

/** Pulumi auto-naming: logical name plus a 7-character suffix (stable here, random in Pulumi). */
export function autoName(name: string, type: string): string {
  return `${name}-${shortHash(type, name).slice(0, 7)}`;
}

/** A cluster's certificate authority as EKS returns it: base64 of the PEM (any bytes do for the mocks). */
export const MOCK_EKS_CA_DATA = Buffer.from("mock cluster certificate authority").toString("base64");

/** The API server endpoint EKS gives a cluster. */
export function eksEndpoint(cluster: string, region: string, partition: string): string {
  const suffix = partition === "aws-cn" ? "amazonaws.com.cn" : "amazonaws.com";
  return `https://${shortHash("eks", cluster).slice(0, 32).toUpperCase()}.gr7.${region}.eks.${suffix}`;
}

/** Type tokens of remote components (whose children a provider plugin creates) and the outputs they expose. */
export function remoteComponentState(type: string, name: string, inputs: Properties): Properties | undefined {
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

/** Where a resource is created: its region (from its provider) and the mock account. */
export interface MockLocation {
  region: string;
  account: string;
}

/** The id and state a custom resource gets; `type` is a Pulumi type token such as `aws:sqs/queue:Queue`. */
export function customResourceState(
  type: string,
  name: string,
  inputs: Properties,
  { region, account }: MockLocation,
): { id: string; state: Properties } {
  const partition = partitionOf(region);
  const hex = shortHash(type, name, region);
  const id17 = hex.slice(0, 17);
  const state: Properties = { ...inputs };
  let id = inputs.name ?? `${name}-${hex.slice(0, 7)}`;
  const named = (fallback = autoName(name, type)) =>
    (state.name = inputs.name ?? (inputs.namePrefix ? `${inputs.namePrefix}${hex.slice(0, 26)}` : fallback));

  switch (type) {
    case "aws:iam/role:Role":
      id = named();
      state.arn = `arn:${partition}:iam::${account}:role${inputs.path ?? "/"}${state.name}`;
      state.uniqueId = `AROA${hex.slice(0, 17).toUpperCase()}`;
      break;
    case "aws:iam/policy:Policy":
      named();
      state.arn = `arn:${partition}:iam::${account}:policy${inputs.path ?? "/"}${state.name}`;
      id = state.arn;
      break;
    case "aws:iam/instanceProfile:InstanceProfile":
      id = named();
      state.arn = `arn:${partition}:iam::${account}:instance-profile/${state.name}`;
      break;
    case "aws:iam/openIdConnectProvider:OpenIdConnectProvider": {
      const host = String(inputs.url ?? "").replace(/^https:\/\//, "");
      state.arn = `arn:${partition}:iam::${account}:oidc-provider/${host}`;
      id = state.arn;
      break;
    }
    case "aws:iam/rolePolicy:RolePolicy":
      id = `${inputs.role}:${inputs.name ?? autoName(name, type)}`;
      break;
    case "aws:sqs/queue:Queue": {
      const base = inputs.name ?? autoName(name, type);
      state.name = inputs.fifoQueue && !base.endsWith(".fifo") ? `${base}.fifo` : base;
      state.arn = `arn:${partition}:sqs:${region}:${account}:${state.name}`;
      state.url = `https://sqs.${region}.amazonaws.com/${account}/${state.name}`;
      id = state.url;
      break;
    }
    case "aws:lambda/function:Function":
      id = named();
      state.arn = `arn:${partition}:lambda:${region}:${account}:function:${state.name}`;
      state.invokeArn = `arn:${partition}:apigateway:${region}:lambda:path/2015-03-31/functions/${state.arn}/invocations`;
      state.qualifiedArn = `${state.arn}:$LATEST`;
      state.version = "$LATEST";
      break;
    case "aws:cloudwatch/logGroup:LogGroup":
      id = named();
      state.arn = `arn:${partition}:logs:${region}:${account}:log-group:${state.name}`;
      break;
    case "aws:s3/bucket:Bucket":
    case "aws:s3/bucketV2:BucketV2":
      state.bucket =
        inputs.bucket ?? (inputs.bucketPrefix ? `${inputs.bucketPrefix}${hex.slice(0, 26)}` : autoName(name, type));
      state.arn = `arn:${partition}:s3:::${state.bucket}`;
      state.bucketRegionalDomainName = `${state.bucket}.s3.${region}.amazonaws.com`;
      id = state.bucket;
      break;
    case "aws:ssm/parameter:Parameter":
      id = named();
      state.arn = `arn:${partition}:ssm:${region}:${account}:parameter/${String(state.name).replace(/^\//, "")}`;
      break;
    case "aws:secretsmanager/secret:Secret":
      named();
      state.arn = `arn:${partition}:secretsmanager:${region}:${account}:secret:${state.name}-${hex.slice(0, 6)}`;
      id = state.arn;
      break;
    case "aws:ecr/repository:Repository":
      id = named();
      state.arn = `arn:${partition}:ecr:${region}:${account}:repository/${state.name}`;
      state.repositoryUrl = `${account}.dkr.ecr.${region}.amazonaws.com/${state.name}`;
      state.registryId = account;
      break;
    case "aws:ecs/cluster:Cluster":
      named();
      state.arn = `arn:${partition}:ecs:${region}:${account}:cluster/${state.name}`;
      id = state.arn;
      break;
    case "aws:ecs/taskDefinition:TaskDefinition":
      state.revision = 1;
      state.arnWithoutRevision = `arn:${partition}:ecs:${region}:${account}:task-definition/${inputs.family}`;
      state.arn = `${state.arnWithoutRevision}:1`;
      id = inputs.family;
      break;
    case "aws:sfn/stateMachine:StateMachine":
      named();
      state.arn = `arn:${partition}:states:${region}:${account}:stateMachine:${state.name}`;
      id = state.arn;
      break;
    case "aws:sns/topic:Topic":
      named();
      state.arn = `arn:${partition}:sns:${region}:${account}:${state.name}`;
      id = state.arn;
      break;
    case "aws:kms/key:Key":
      id = `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
      state.keyId = id;
      state.arn = `arn:${partition}:kms:${region}:${account}:key/${id}`;
      break;
    case "aws:kms/alias:Alias":
      id = inputs.name;
      state.arn = `arn:${partition}:kms:${region}:${account}:${inputs.name}`;
      break;
    case "aws:ec2/launchTemplate:LaunchTemplate":
      id = `lt-${id17}`;
      named();
      state.arn = `arn:${partition}:ec2:${region}:${account}:launch-template/${id}`;
      state.latestVersion = 1;
      state.defaultVersion = 1;
      break;
    case "aws:ec2/securityGroup:SecurityGroup":
      id = `sg-${id17}`;
      named();
      state.arn = `arn:${partition}:ec2:${region}:${account}:security-group/${id}`;
      break;
    case "aws:ec2/vpcEndpoint:VpcEndpoint":
      id = `vpce-${id17}`;
      state.arn = `arn:${partition}:ec2:${region}:${account}:vpc-endpoint/${id}`;
      break;
    case "aws:ec2/flowLog:FlowLog":
      id = `fl-${id17}`;
      state.arn = `arn:${partition}:ec2:${region}:${account}:vpc-flow-log/${id}`;
      break;
    case "aws:apigatewayv2/api:Api":
      id = hex.slice(0, 10);
      state.apiEndpoint = `https://${id}.execute-api.${region}.amazonaws.com`;
      state.executionArn = `arn:${partition}:execute-api:${region}:${account}:${id}`;
      state.arn = `arn:${partition}:apigateway:${region}::/apis/${id}`;
      break;
    case "aws:apigatewayv2/stage:Stage":
      id = inputs.name ?? "$default";
      state.invokeUrl = `https://${inputs.apiId}.execute-api.${region}.amazonaws.com/${id === "$default" ? "" : id}`;
      break;
    case "aws:codebuild/project:Project":
      id = named();
      state.arn = `arn:${partition}:codebuild:${region}:${account}:project/${state.name}`;
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
      state.arn = `arn:${partition}:${service}:${region}:${account}:connection/${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
      state.connectionStatus = "PENDING";
      id = state.arn;
      break;
    }
    case "aws:cloudwatch/eventRule:EventRule":
      id = named();
      state.arn = `arn:${partition}:events:${region}:${account}:rule/${state.name}`;
      break;
    case "aws:scheduler/schedule:Schedule":
      id = named();
      state.arn = `arn:${partition}:scheduler:${region}:${account}:schedule/${inputs.groupName ?? "default"}/${state.name}`;
      break;
    case "aws:cloudwatch/metricAlarm:MetricAlarm":
      id = named();
      state.arn = `arn:${partition}:cloudwatch:${region}:${account}:alarm:${state.name}`;
      break;
    case "aws:lambda/eventSourceMapping:EventSourceMapping":
      id = shortHash(name, "esm").slice(0, 36);
      state.uuid = id;
      state.functionArn = inputs.functionName;
      break;
    case "aws:dynamodb/table:Table":
      id = named();
      state.arn = `arn:${partition}:dynamodb:${region}:${account}:table/${state.name}`;
      break;
    case "aws:eks/cluster:Cluster":
      // What a created cluster reports once active: the API endpoint and the CA the Kubernetes provider needs.
      id = named();
      state.arn = `arn:${partition}:eks:${region}:${account}:cluster/${state.name}`;
      state.endpoint = eksEndpoint(String(state.name), region, partition);
      state.certificateAuthority = { data: MOCK_EKS_CA_DATA };
      state.identities = [{ oidcs: [{ issuer: `https://oidc.eks.${region}.amazonaws.com/id/${hex.slice(0, 32)}` }] }];
      state.status = "ACTIVE";
      break;
    case "aws:eks/nodeGroup:NodeGroup":
      id = `${inputs.clusterName}:${inputs.nodeGroupName ?? autoName(name, type)}`;
      state.nodeGroupName = inputs.nodeGroupName ?? autoName(name, type);
      state.arn = `arn:${partition}:eks:${region}:${account}:nodegroup/${inputs.clusterName}/${state.nodeGroupName}/${hex.slice(0, 8)}`;
      state.status = "ACTIVE";
      break;
    case "aws:eks/accessEntry:AccessEntry":
      id = `${inputs.clusterName}:${inputs.principalArn}`;
      state.accessEntryArn = `arn:${partition}:eks:${region}:${account}:access-entry/${inputs.clusterName}/role/${hex.slice(0, 12)}`;
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
        state.arn =
          state.arn ?? `arn:${partition}:${service}:${region}:${account}:${type.split(":")[2].toLowerCase()}/${id}`;
      } else {
        id = `${name}-${hex.slice(0, 8)}`;
      }
  }
  if (state.id === undefined) state.id = id;
  return { id, state };
}
