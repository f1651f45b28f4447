/**
 * Building blocks of the stack configuration's schema: AWS and GitHub identifiers, CIDR blocks, instance types,
 * and the limits AWS documents (log retention periods, Fargate CPU/memory pairs).
 */
import { Region } from "@pulumi/aws/types/enums";
import { InstanceType } from "@pulumi/aws/types/enums/ec2";
import { z } from "zod";

/** The project name: the prefix of every config key (`cirunners:runners`) and of names and parameter paths. */
export const PROJECT = "cirunners";

/** CloudWatch Logs accepts only these retention periods (days). */
export const LOG_RETENTION_DAYS = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
] as const;

/** A CloudWatch Logs retention period in days. */
export const logRetentionDays = z
  .number()
  .int()
  .refine(
    (d) => (LOG_RETENTION_DAYS as readonly number[]).includes(d),
    `expected one of CloudWatch's retention periods: ${LOG_RETENTION_DAYS.join(", ")}`,
  );

/**
 * Every region AWS has announced, from @pulumi/aws's `Region` enum: the provider is regenerated from AWS's own
 * endpoint data on each release, so a new region arrives with a routine dependency update instead of an edit here.
 */
export const AWS_REGIONS: readonly string[] = Object.values(Region);

/** EC2's instance types, from @pulumi/aws's `ec2.InstanceType` enum (generated from the EC2 API model). */
export const INSTANCE_TYPES: ReadonlySet<string> = new Set(Object.values(InstanceType));

/** The closest entry of `known` to a typo (`eu-wset-1` → `eu-west-1`), or undefined when none is close. */
export function closest(value: string, known: Iterable<string>): string | undefined {
  let best: string | undefined;
  let bestDistance = 3; // more than two edits away is a different word, not a typo
  for (const candidate of known) {
    const distance = editDistance(value, candidate);
    if (distance < bestDistance) [best, bestDistance] = [candidate, distance];
  }
  return best;
}

/** Optimal string alignment distance: a swap of two neighbours (wset/west) counts as one edit. */
function editDistance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0][j] = j;
  for (let i = 1; i <= a.length; i++)
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
    }
  return d[a.length][b.length];
}

/** The message for a value missing from a catalog, with the nearest known value when one is close. */
function unknownMessage(what: string, value: string, known: Iterable<string>): string {
  const suggestion = closest(value, known);
  return suggestion ? `${what} (did you mean ${suggestion}?)` : what;
}

export const CODEBUILD_COMPUTE_TYPES = [
  "BUILD_GENERAL1_SMALL",
  "BUILD_GENERAL1_MEDIUM",
  "BUILD_GENERAL1_LARGE",
  "BUILD_GENERAL1_XLARGE",
  "BUILD_GENERAL1_2XLARGE",
] as const;

/** Fargate's valid CPU units and, for each, the memory (MiB) it accepts. */
export const FARGATE_MEMORY: Record<number, number[]> = {
  256: [512, 1024, 2048],
  512: range(1024, 4096, 1024),
  1024: range(2048, 8192, 1024),
  2048: range(4096, 16384, 1024),
  4096: range(8192, 30720, 1024),
  8192: range(16384, 61440, 4096),
  16384: range(32768, 122880, 8192),
};

function range(from: number, to: number, step: number): number[] {
  const out: number[] = [];
  for (let v = from; v <= to; v += step) out.push(v);
  return out;
}

export const resourceName = z
  .string()
  .regex(
    /^[a-z][a-z0-9-]{0,30}[a-z0-9]$/,
    "expected a lower-case name of 2-32 letters, digits and dashes, starting with a letter",
  );
export const vpcId = z
  .string()
  .regex(/^vpc-[0-9a-f]{8}([0-9a-f]{9})?$/, "expected a VPC id like vpc-0123456789abcdef0");
export const subnetId = z
  .string()
  .regex(/^subnet-[0-9a-f]{8}([0-9a-f]{9})?$/, "expected a subnet id like subnet-0123456789abcdef0");
export const securityGroupId = z
  .string()
  .regex(/^sg-[0-9a-f]{8}([0-9a-f]{9})?$/, "expected a security group id like sg-0123456789abcdef0");
export const awsRegion = z.string().superRefine((region, ctx) => {
  if (!AWS_REGIONS.includes(region)) ctx.addIssue({ code: "custom", message: regionMessage(region), input: region });
});

/** Why a region is not accepted, with the nearest real region for a typo. */
export function regionMessage(region: string): string {
  return unknownMessage("expected an AWS region like eu-west-1", region, AWS_REGIONS);
}
export const githubLogin = z
  .string()
  .regex(/^[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38}$/, "expected a GitHub user or organization login");
export const repositoryName = z.string().regex(/^[A-Za-z0-9_.-]{1,100}$/, "expected a repository name (without owner)");
export const ownerAndRepository = z
  .string()
  .regex(/^[A-Za-z0-9-]{1,39}\/[A-Za-z0-9_.-]{1,100}$/, 'expected "owner/repository" with no wildcard');
export const ssmParameterName = z
  .string()
  .regex(
    /^\/[A-Za-z0-9_.\-/]{1,1010}$/,
    "expected an SSM parameter name starting with /, like /cirunners/github-app/private-key",
  );
export const port = z.number().int().min(1).max(65535);
export const cidr = z.string().refine(isCidr, "expected an IPv4 CIDR block like 10.0.0.0/16");
export const arn = z
  .string()
  .regex(/^arn:aws[a-z-]*:[a-z0-9-]+:[a-z0-9-]*:\d{12}:.+$/, "expected an ARN with an account id");

/** Instance type names such as m7g.large, c6i.2xlarge, t3a.micro, g5.xlarge, m7i-flex.large. */
export const INSTANCE_TYPE_PATTERN =
  /^[a-z][a-z0-9]*\d[a-z0-9]*(-flex)?\.(nano|micro|small|medium|large|xlarge|\d{1,2}xlarge|metal(-\d{1,2}xl)?)$/;

/**
 * An EC2 instance type: the shape first (so "huge" gets the plain message), then the catalog, which knows that
 * m9z does not exist and that t4g has no 8xlarge. A type newer than the installed @pulumi/aws is rejected too:
 * the message says to update the dependency.
 */
export const instanceType = z
  .string()
  .regex(INSTANCE_TYPE_PATTERN, "expected an EC2 instance type like m7i.large")
  .superRefine((type, ctx) => {
    if (INSTANCE_TYPE_PATTERN.test(type) && !INSTANCE_TYPES.has(type))
      ctx.addIssue({
        code: "custom",
        message: unknownMessage(
          "expected an EC2 instance type that exists (not in the EC2 catalog of the installed @pulumi/aws; update it if AWS added this type since)",
          type,
          INSTANCE_TYPES,
        ),
        input: type,
      });
  });

/** Graviton (arm64) families: a1, or a digit followed by "g" (m7g, c7gn, t4g, r8gd, g5g, im4gn, is4gen). */
export function instanceTypeArchitecture(instanceType: string): "arm64" | "x64" {
  const family = instanceType.split(".")[0];
  return family === "a1" || /^[a-z]+\d+g[a-z]*$/.test(family) ? "arm64" : "x64";
}

export function isCidr(value: string): boolean {
  const match = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/.exec(value);
  if (!match) return false;
  const octets = match.slice(1, 5).map(Number);
  const prefix = Number(match[5]);
  if (octets.some((o) => o > 255) || prefix > 32) return false;
  const address = octets.reduce((acc, o) => acc * 256 + o, 0);
  const hostBits = 32 - prefix;
  return address % 2 ** hostBits === 0; // no host bits set: 10.0.0.1/16 is a typo, not a network
}
