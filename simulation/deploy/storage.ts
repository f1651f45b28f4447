/**
 * The stack's secrets and the runner cache bucket: the webhook secret (a secret in the preview, so the simulation
 * stores its own value), the GitHub App's private key (created out of band in a real account; here the stand-in's
 * key) and the cache bucket under its recorded name, private and encrypted.
 */
import {
  type BucketLocationConstraint,
  CreateBucketCommand,
  PutBucketEncryptionCommand,
  PutPublicAccessBlockCommand,
  type S3Client,
} from "@aws-sdk/client-s3";
import { PutParameterCommand, type SSMClient } from "@aws-sdk/client-ssm";
import { type StackSnapshot, resourcesOfType } from "../stack";
import { str } from "./recorded";

export interface DeploySecrets {
  webhookSecret: string;
  appPrivateKeyPem: string;
}

export async function deploySecrets(
  snapshot: StackSnapshot,
  ssm: SSMClient,
  names: { webhookSecretParameter: string; appPrivateKeyParameter: string },
  secrets: DeploySecrets,
  steps: string[],
): Promise<void> {
  const declared = resourcesOfType(snapshot, "aws:ssm/parameter:Parameter").find(
    (p) => str(p.inputs.name) === names.webhookSecretParameter,
  );
  await ssm.send(
    new PutParameterCommand({
      Name: names.webhookSecretParameter,
      Type: "SecureString",
      Value: secrets.webhookSecret,
      Description: str(declared?.inputs.description),
      Overwrite: true,
    }),
  );
  steps.push(`parameter ${names.webhookSecretParameter} (SecureString): the webhook secret`);
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
