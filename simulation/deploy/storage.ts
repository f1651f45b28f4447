/**
 * The stack's secrets and the runner cache bucket: the webhook secret in Secrets Manager (its value is a secret in
 * the preview, so the simulation stores its own), the GitHub App's private key in SSM (created out of band in a real
 * account; here the stand-in's key) and the cache bucket under its recorded name, private and encrypted.
 */
import {
  type BucketLocationConstraint,
  CreateBucketCommand,
  PutBucketEncryptionCommand,
  PutPublicAccessBlockCommand,
  type S3Client,
} from "@aws-sdk/client-s3";
import { CreateSecretCommand, type SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { PutParameterCommand, type SSMClient } from "@aws-sdk/client-ssm";
import { type StackSnapshot, resourcesOfType } from "../stack";
import { str, tagList } from "./recorded";

export interface DeploySecrets {
  webhookSecret: string;
  appPrivateKeyPem: string;
}

/**
 * The secret's name in a recorded ARN (`arn:…:secret:<name>-<6 random characters>`): the name moto creates it under.
 * Secrets Manager appends the 6 characters itself, so moto's ARN differs from the recorded one only in them.
 */
export function secretNameFromArn(arn: string): string {
  const match = /:secret:(.+)-[A-Za-z0-9]{6}$/.exec(arn);
  if (!match) throw new Error(`${arn} is not a Secrets Manager secret ARN`);
  return match[1];
}

/** Creates the secrets; returns the ARN moto gave the webhook secret. */
export async function deploySecrets(
  snapshot: StackSnapshot,
  clients: { ssm: SSMClient; secretsManager: SecretsManagerClient },
  names: { webhookSecretArn: string; appPrivateKeyParameter: string },
  secrets: DeploySecrets,
  steps: string[],
): Promise<string> {
  const { ssm, secretsManager } = clients;
  const name = secretNameFromArn(names.webhookSecretArn);
  // The stack declares one secret (the webhook's): its description and tags come from there.
  const declared = resourcesOfType(snapshot, "aws:secretsmanager/secret:Secret")[0];
  const created = await secretsManager.send(
    new CreateSecretCommand({
      Name: name,
      Description: str(declared?.inputs.description),
      SecretString: secrets.webhookSecret,
      Tags: tagList(declared?.inputs.tags),
    }),
  );
  if (!created.ARN) throw new Error(`moto returned no ARN for secret ${name}`);
  steps.push(`secret ${name} (Secrets Manager, aws/secretsmanager): the webhook secret`);
  await ssm.send(
    new PutParameterCommand({
      Name: names.appPrivateKeyParameter,
      Type: "SecureString",
      Value: secrets.appPrivateKeyPem,
      Overwrite: true,
    }),
  );
  steps.push(
    `parameter ${names.appPrivateKeyParameter} (SecureString): the GitHub App private key (RSA key generated for the stand-in)`,
  );
  return created.ARN;
}

/** The runner cache bucket, if the stack declares one; its name. */
export async function deployCacheBucket(
  snapshot: StackSnapshot,
  s3: S3Client,
  region: string,
  steps: string[],
): Promise<string | undefined> {
  const bucket = str(resourcesOfType(snapshot, "aws:s3/bucket:Bucket")[0]?.inputs.bucket);
  if (!bucket) return undefined;
  await s3.send(
    new CreateBucketCommand({
      Bucket: bucket,
      ...(region === "us-east-1"
        ? {}
        : { CreateBucketConfiguration: { LocationConstraint: region as BucketLocationConstraint } }),
    }),
  );
  await s3.send(
    new PutPublicAccessBlockCommand({
      Bucket: bucket,
      PublicAccessBlockConfiguration: {
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      },
    }),
  );
  await s3.send(
    new PutBucketEncryptionCommand({
      Bucket: bucket,
      ServerSideEncryptionConfiguration: {
        Rules: [{ ApplyServerSideEncryptionByDefault: { SSEAlgorithm: "AES256" } }],
      },
    }),
  );
  steps.push(`bucket ${bucket} (runner cache: public access blocked, encrypted)`);
  return bucket;
}
