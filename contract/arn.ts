/**
 * Partition-aware ARNs. The partition follows from the region (AWS General Reference, "Amazon Resource Names":
 * `aws`, `aws-cn` for the China regions, `aws-us-gov` for GovCloud, `aws-iso*` for the isolated regions), so a
 * stack in cn-north-1 or us-gov-west-1 gets policies that name its own resources.
 */
export interface AwsLocation {
  partition: string;
  region: string;
  account: string;
}

const PARTITION_BY_REGION_PREFIX: ReadonlyArray<[string, string]> = [
  ["cn-", "aws-cn"],
  ["us-gov-", "aws-us-gov"],
  ["us-isob-", "aws-iso-b"],
  ["us-isof-", "aws-iso-f"],
  ["eu-isoe-", "aws-iso-e"],
  ["us-iso-", "aws-iso"],
];

/** The partition a region belongs to. */
export function partitionOf(region: string): string {
  return PARTITION_BY_REGION_PREFIX.find(([prefix]) => region.startsWith(prefix))?.[1] ?? "aws";
}

/** `arn:<partition>:<service>:<region>:<account>:<resource>`; region and account may be empty (IAM, S3). */
export function arn(
  where: Pick<AwsLocation, "partition">,
  service: string,
  region: string,
  account: string,
  resource: string,
): string {
  return `arn:${where.partition}:${service}:${region}:${account}:${resource}`;
}

/**
 * An SSM parameter's ARN; names start with `/` (hierarchical), which the ARN does not repeat. AWS's public
 * parameters (`/aws/service/...`, e.g. the latest AMI ids) belong to AWS: their ARNs carry no account id.
 */
export function parameterArn(where: AwsLocation, name: string): string {
  const account = name.startsWith("/aws/service/") ? "" : where.account;
  return arn(where, "ssm", where.region, account, `parameter/${name.replace(/^\/+/, "")}`);
}

/** Every parameter below a path (`/cirunners/dev/runners` → `…:parameter/cirunners/dev/runners/*`). */
export function parameterPathArn(where: AwsLocation, prefix: string): string {
  return `${parameterArn(where, prefix.replace(/\/+$/, ""))}/*`;
}

/** An EC2 resource in the stack's region and account (`instance/*`, `subnet/subnet-…`, `launch-template/lt-…`). */
export function ec2Arn(where: AwsLocation, resource: string): string {
  return arn(where, "ec2", where.region, where.account, resource);
}

/** A public or shared AMI: images carry no account in their ARN. */
export function imageArn(where: Omit<AwsLocation, "account">, imageId = "*"): string {
  return arn(where, "ec2", where.region, "", `image/${imageId}`);
}

/** An IAM resource (`role/x`, `oidc-provider/host`): IAM is global, so its ARNs carry no region. */
export function iamArn(where: Omit<AwsLocation, "region">, resource: string): string {
  return arn(where, "iam", "", where.account, resource);
}

export function s3BucketArn(where: Pick<AwsLocation, "partition">, bucket: string): string {
  return arn(where, "s3", "", "", bucket);
}

/** A resource in any service of the stack's region and account (`events` `rule/x`, `ecs` `cluster/x`, ...). */
export function regionalArn(where: AwsLocation, service: string, resource: string): string {
  return arn(where, service, where.region, where.account, resource);
}

/** A DynamoDB table in the stack's region and account (`table/<name>`). */
export function dynamodbTableArn(where: AwsLocation, table: string): string {
  return arn(where, "dynamodb", where.region, where.account, `table/${table}`);
}

/** A table's secondary index: Query on an index is authorised on this ARN, not on the table's. */
export function dynamodbIndexArn(where: AwsLocation, table: string, index: string): string {
  return `${dynamodbTableArn(where, table)}/index/${index}`;
}

/**
 * A Step Functions service integration (`ecs:runTask.sync`, `aws-sdk:ecs:describeTaskDefinition`): these ARNs
 * name no region and no account, only the partition.
 */
export function statesIntegrationArn(where: Pick<AwsLocation, "partition">, integration: string): string {
  return arn(where, "states", "", "", integration);
}

/** An AWS managed resource that lives in account `aws` (EKS access policies: `cluster-access-policy/...`). */
export function awsManagedArn(where: Pick<AwsLocation, "partition">, service: string, resource: string): string {
  return arn(where, service, "", "aws", resource);
}

/**
 * An EC2 Image Builder pipeline (`image-pipeline/<name>`): Image Builder lower-cases the name in the ARN
 * (Service Authorization Reference, EC2 Image Builder resource types: `image-pipeline/${ImagePipelineName}`).
 */
export function imagePipelineArn(where: AwsLocation, name: string): string {
  return arn(where, "imagebuilder", where.region, where.account, `image-pipeline/${name.toLowerCase()}`);
}

/** Partition, region and account of an ARN such as a Lambda function's own (`context.invokedFunctionArn`). */
export function locationOfArn(value: string): AwsLocation {
  const parts = value.split(":");
  if (parts.length < 6 || parts[0] !== "arn" || !parts[1] || !parts[3] || !/^\d{12}$/.test(parts[4])) {
    throw new Error(`expected an ARN with a region and an account id, got ${JSON.stringify(value)}`);
  }
  return { partition: parts[1], region: parts[3], account: parts[4] };
}
