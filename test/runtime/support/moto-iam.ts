/**
 * Proving a role's policy with moto's IAM enforcement: create the role and its inline policy, assume it (moto's STS
 * hands out credentials moto recognises), then switch enforcement on (`/moto-api/reset-auth`, which sets moto's
 * INITIAL_NO_AUTH_ACTION_COUNT: after that many requests, every request is checked against its caller's policies).
 * From then on a call signed with the role's credentials succeeds only if the role's policy allows it.
 *
 * IAM and STS are called with plain Query-protocol requests (no IAM or STS client in the dependencies); moto does
 * not check those signatures before enforcement is on. Secrets Manager calls are checked against the secret's ARN
 * thanks to moto-iam/sitecustomize.py (why there).
 */
import * as path from "node:path";
import type { PolicyStatement } from "../../../program/shared/iam";
import { type MotoServer, startMoto } from "../../../testkit/moto";

export const ACCOUNT = "123456789012";

export interface RoleCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken: string;
}

/** A moto server whose Secrets Manager names the secret of each request to IAM enforcement. */
export function startMotoForIam(region: string): Promise<MotoServer> {
  return startMoto({ region, env: { PYTHONPATH: path.join(__dirname, "moto-iam") } });
}

async function query(moto: MotoServer, service: "iam" | "sts", params: Record<string, string>): Promise<string> {
  const response = await fetch(moto.endpoint, {
    method: "POST",
    headers: {
      "content-type": "application/x-www-form-urlencoded",
      // moto routes by the credential scope's service; the signature is not checked while enforcement is off.
      authorization: `AWS4-HMAC-SHA256 Credential=setup/20260101/us-east-1/${service}/aws4_request, SignedHeaders=host, Signature=0`,
    },
    body: new URLSearchParams(params).toString(),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`${service} ${params.Action}: ${response.status} ${text}`);
  return text;
}

function xmlField(xml: string, tag: string): string {
  const value = new RegExp(`<${tag}>([^<]*)</${tag}>`).exec(xml)?.[1];
  if (value === undefined) throw new Error(`no <${tag}> in ${xml}`);
  return value;
}

/** Creates a Lambda role with one inline policy and returns credentials of a session in it. */
export async function roleSession(
  moto: MotoServer,
  roleName: string,
  statements: PolicyStatement[],
): Promise<RoleCredentials> {
  await query(moto, "iam", {
    Action: "CreateRole",
    Version: "2010-05-08",
    RoleName: roleName,
    AssumeRolePolicyDocument: JSON.stringify({
      Version: "2012-10-17",
      Statement: [{ Effect: "Allow", Principal: { Service: "lambda.amazonaws.com" }, Action: "sts:AssumeRole" }],
    }),
  });
  await query(moto, "iam", {
    Action: "PutRolePolicy",
    Version: "2010-05-08",
    RoleName: roleName,
    PolicyName: `${roleName}-policy`,
    PolicyDocument: JSON.stringify({ Version: "2012-10-17", Statement: statements }),
  });
  const assumed = await query(moto, "sts", {
    Action: "AssumeRole",
    Version: "2011-06-15",
    RoleArn: `arn:aws:iam::${ACCOUNT}:role/${roleName}`,
    RoleSessionName: "function",
  });
  return {
    accessKeyId: xmlField(assumed, "AccessKeyId"),
    secretAccessKey: xmlField(assumed, "SecretAccessKey"),
    sessionToken: xmlField(assumed, "SessionToken"),
  };
}

/** From the next request on, moto checks every request against its caller's policies. */
export async function enforceIam(moto: MotoServer): Promise<void> {
  const response = await fetch(`${moto.endpoint}/moto-api/reset-auth`, { method: "POST", body: "0" });
  if (!response.ok) throw new Error(`moto reset-auth: ${response.status} ${await response.text()}`);
}
