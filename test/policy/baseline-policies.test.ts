// Issue 14's non-IAM rules: each with a bad and a good case.
import * as assert from "node:assert/strict";
import { UNKNOWN } from "../../policy/evaluate";
import { findSecret } from "../../policy/lib/secrets";
import { assertClean, assertViolates, json, messages, res } from "./helpers";
import { FN, LT } from "./resource-types";

describe("aws-compute-no-plaintext-secrets (CKV_AWS_45/46)", () => {
  const P = "aws-compute-no-plaintext-secrets";
  const fn = (variables: Record<string, unknown>) => res(FN, "f", { environment: { variables } });

  it("flags known key formats and high-entropy strings in Lambda environments and user data", async () => {
    await assertViolates(
      P,
      [fn({ AWS_ACCESS_KEY_ID: "AKIAIOSFODNN7EXAMPLE" })],
      "AWS_ACCESS_KEY_ID holds an AWS access key id",
    );
    await assertViolates(P, [fn({ GH: "ghp_0123456789abcdefghijklmnopqrstuvwxyzAB" })], "a GitHub token");
    await assertViolates(P, [fn({ SECRET: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLEKEY9q" })], "high-entropy");
    const script =
      "#!/bin/bash\ncat > key <<EOF\n-----BEGIN RSA PRIVATE KEY-----\nMIIE\n-----END RSA PRIVATE KEY-----\nEOF\n";
    await assertViolates(
      P,
      [res(LT, "lt", { userData: Buffer.from(script).toString("base64") })],
      "userData holds a private key",
    );
    await assertViolates(
      P,
      [res("aws:ec2/instance:Instance", "i", { userData: "export TOKEN=ghp_0123456789abcdefghijklmnopqrstuvwxyzAB" })],
      "a GitHub token",
    );
  });

  it("keeps false positives low: ARNs, SSM parameter names, URLs, hosts, unknown values", async () => {
    await assertClean(P, [
      fn({
        QUEUE_ARN: "arn:aws:sqs:eu-west-1:123456789012:cirunners-jobs-0123456789abcdef0123456789",
        PARAM: "/cirunners/github-app/private-key-0123456789abcdef0123456789abcdef",
        URL: "https://sqs.eu-west-1.amazonaws.com/123456789012/cirunners-jobs-a1b2c3d4e5f6a7b8c9d0",
        HOST: "api.github.com",
        SHA: "0123456789abcdef0123456789abcdef01234567".replace(/[a-f]/g, "a"),
        LATER: UNKNOWN,
      }),
      res(LT, "lt", {
        userData: Buffer.from("#!/bin/bash\naws ssm get-parameter --name /cirunners/jit --with-decryption\n").toString(
          "base64",
        ),
      }),
    ]);
    assert.equal(findSecret("just a sentence with words"), undefined);
  });
});

describe("aws-ec2-instance-imds-hop-limit (CKV_AWS_341)", () => {
  const P = "aws-ec2-instance-imds-hop-limit";
  it("flags a hop limit above 1, accepts 1, unset, unknown and a disabled endpoint", async () => {
    await assertViolates(
      P,
      [res(LT, "lt", { metadataOptions: { httpTokens: "required", httpPutResponseHopLimit: 2 } })],
      "httpPutResponseHopLimit is 2",
    );
    await assertClean(P, [
      res(LT, "a", { metadataOptions: { httpTokens: "required", httpPutResponseHopLimit: 1 } }),
      res(LT, "b", { metadataOptions: { httpPutResponseHopLimit: UNKNOWN } }),
      res(LT, "c", { metadataOptions: { httpEndpoint: "disabled", httpPutResponseHopLimit: 3 } }),
    ]);
  });
});

describe("aws-codebuild-project-no-privileged-mode (CKV_AWS_316)", () => {
  const P = "aws-codebuild-project-no-privileged-mode";
  const project = (name: string, privilegedMode: unknown) =>
    res("aws:codebuild/project:Project", name, { environment: { privilegedMode } });
  it("flags privileged mode (advisory) unless the project is allow-listed", async () => {
    await assertViolates(P, [project("runner", true)], "privilegedMode is true");
    await assertClean(P, [project("runner", false), project("other", UNKNOWN)]);
    assert.deepEqual(
      await messages(P, [project("docker-builds", true)], { config: { [P]: { allowedProjects: ["docker-*"] } } }),
      [],
    );
  });
});

describe("aws-resource-policy-no-public-principal (CKV_AWS_32/301/33)", () => {
  const P = "aws-resource-policy-no-public-principal";
  const pub = json({ Effect: "Allow", Principal: "*", Action: "ecr:BatchGetImage" });
  it("flags public ECR repository policies, Lambda permissions and KMS key policies", async () => {
    await assertViolates(
      P,
      [res("aws:ecr/repositoryPolicy:RepositoryPolicy", "r", { policy: pub })],
      "anyone can use this repository",
    );
    await assertViolates(
      P,
      [
        res("aws:lambda/permission:Permission", "p", {
          action: "lambda:InvokeFunction",
          function: "f",
          principal: "*",
        }),
      ],
      'principal is "*"',
    );
    await assertViolates(
      P,
      [
        res("aws:kms/keyPolicy:KeyPolicy", "k", {
          policy: json({ Effect: "Allow", Principal: { AWS: "*" }, Action: "kms:Decrypt", Resource: "*" }),
        }),
      ],
      "this key",
    );
  });
  it("accepts named principals, conditions, and scoped Lambda permissions", async () => {
    await assertClean(P, [
      res("aws:ecr/repositoryPolicy:RepositoryPolicy", "r", {
        policy: json({
          Effect: "Allow",
          Principal: { AWS: "arn:aws:iam::123456789012:root" },
          Action: "ecr:BatchGetImage",
        }),
      }),
      res("aws:ecr/repositoryPolicy:RepositoryPolicy", "o", {
        policy: json({
          Effect: "Allow",
          Principal: "*",
          Action: "ecr:BatchGetImage",
          Condition: { StringEquals: { "aws:PrincipalOrgID": "o-abc" } },
        }),
      }),
      res("aws:lambda/permission:Permission", "p", {
        action: "lambda:InvokeFunction",
        function: "f",
        principal: "events.amazonaws.com",
        sourceArn: UNKNOWN,
      }),
      res("aws:lambda/permission:Permission", "q", {
        action: "lambda:InvokeFunction",
        function: "f",
        principal: "*",
        sourceAccount: "123456789012",
      }),
    ]);
  });
});

describe("aws-kms-key-rotation-enabled (CKV_AWS_7)", () => {
  const P = "aws-kms-key-rotation-enabled";
  it("flags symmetric keys without rotation; accepts rotation and asymmetric keys", async () => {
    await assertViolates(P, [res("aws:kms/key:Key", "k", {})], "enableKeyRotation is not true");
    await assertClean(P, [
      res("aws:kms/key:Key", "a", { enableKeyRotation: true }),
      res("aws:kms/key:Key", "b", { customerMasterKeySpec: "RSA_2048", keyUsage: "SIGN_VERIFY" }),
      res("aws:kms/key:Key", "c", { enableKeyRotation: UNKNOWN }),
    ]);
  });
});

describe("aws-ec2-subnet-no-public-ip-on-launch (CKV_AWS_130)", () => {
  const P = "aws-ec2-subnet-no-public-ip-on-launch";
  it("flags mapPublicIpOnLaunch (advisory); public subnets are exempted by tag", async () => {
    const pub = res("aws:ec2/subnet:Subnet", "public-a", { mapPublicIpOnLaunch: true, tags: { tier: "public" } });
    await assertViolates(P, [pub], "mapPublicIpOnLaunch is true");
    await assertClean(P, [res("aws:ec2/subnet:Subnet", "private-a", { mapPublicIpOnLaunch: false })]);
    assert.deepEqual(await messages(P, [pub], { config: { [P]: { exemptTags: { tier: "public" } } } }), []);
  });
});

describe("aws-eks-cluster-endpoint-and-secrets (CKV_AWS_38/58)", () => {
  const P = "aws-eks-cluster-endpoint-and-secrets";
  const secrets = { resources: ["secrets"], provider: { keyArn: UNKNOWN } };
  it("flags a world-open public endpoint and missing secrets encryption", async () => {
    await assertViolates(
      P,
      [
        res("aws:eks/cluster:Cluster", "c", {
          vpcConfig: { endpointPublicAccess: true, publicAccessCidrs: ["0.0.0.0/0"] },
          encryptionConfig: secrets,
        }),
      ],
      "open to 0.0.0.0/0",
    );
    await assertViolates(
      P,
      [res("aws:eks/cluster:Cluster", "c", { vpcConfig: { endpointPublicAccess: false } })],
      'does not cover "secrets"',
    );
  });
  it("accepts a private endpoint or restricted CIDRs with secrets encryption", async () => {
    await assertClean(P, [
      res("aws:eks/cluster:Cluster", "a", {
        vpcConfig: { endpointPublicAccess: false, endpointPrivateAccess: true },
        encryptionConfig: secrets,
      }),
      res("aws:eks/cluster:Cluster", "b", {
        vpcConfig: { endpointPublicAccess: true, publicAccessCidrs: ["203.0.113.0/24"] },
        encryptionConfig: secrets,
      }),
    ]);
  });
});
