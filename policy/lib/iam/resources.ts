// What a Resource element value covers. IAM's `*` and `?` match any characters, `/` and `:` included
// (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_resource.html), so
// `arn:aws:iam::123456789012:role*` and `role/**` name every role just like `role/*`.
import { wildcardCovers } from "../glob";

/** The partitions the program deploys to; a pattern naming one of them (or a wildcard) is as broad as `aws`. */
export const PARTITIONS: readonly string[] = ["aws", "aws-cn", "aws-us-gov"];

const ONLY_WILDCARDS = /^[*?]*\*[*?]*$/;

function anyPartition(partition: string): boolean {
  return ONLY_WILDCARDS.test(partition) || PARTITIONS.includes(partition.toLowerCase());
}

/**
 * The service a resource pattern covers entirely, `"*"` for every service, or undefined when it is narrower.
 * `*`, `arn:*`, `arn:aws:*:...` cover every service; `arn:aws:s3:::*`, `arn:aws-cn:ec2:*:*:*` and
 * `arn:aws:ec2:eu-west-1:123456789012:*` every resource of one service (an identity policy acts in its own account,
 * so a region or account in the ARN does not narrow what `*` after it grants there).
 */
export function coveredService(resource: string): string | undefined {
  const r = resource.trim();
  if (ONLY_WILDCARDS.test(r)) return "*";
  const parts = r.split(":");
  if (parts[0].toLowerCase() !== "arn" || parts.length < 2 || !anyPartition(parts[1])) return undefined;
  // `arn:*`: the wildcard stands for the rest of the ARN.
  if (parts.length === 2) return ONLY_WILDCARDS.test(parts[1]) ? "*" : undefined;
  if (/^[*?]+$/.test(parts[2])) return "*";
  // A short ARN ending in `*` (`arn:aws:ec2:*`) lets that wildcard span region, account and resource.
  const resourcePart = parts.length >= 6 ? parts.slice(5).join(":") : parts.length > 3 ? parts[parts.length - 1] : "";
  return ONLY_WILDCARDS.test(resourcePart) ? parts[2].toLowerCase() : undefined;
}

/** True when the pattern covers every resource of every service (`*` and its equivalents). */
export function isAnyResource(resource: string): boolean {
  return coveredService(resource) === "*";
}

/** True when the pattern covers every resource of `service` (`*`, `arn:aws:s3:::*`, ...). */
export function coversServiceResources(resource: string, service: string): boolean {
  const covered = coveredService(resource);
  return covered === "*" || covered === service.toLowerCase();
}

/**
 * Replaces the `${Variable}`s of a SAR ARN format with what a pattern must cover to name every resource of the
 * type: the pattern's own region and account when they are literal (an identity policy acts in one account, so
 * `arn:aws:iam::123456789012:role/*` still names every role), anything non-empty (`?*`) otherwise.
 */
function probes(arnFormat: string, pattern: string): string[] {
  const [, , , region = "", account = ""] = pattern.split(":");
  const literal = (value: string) => (value !== "" && !/[*?]/.test(value) ? value : "?*");
  return PARTITIONS.map((partition) =>
    arnFormat
      .replace(/\$\{Partition\}/g, partition)
      .replace(/\$\{Region\}/g, literal(region))
      .replace(/\$\{Account\}/g, literal(account))
      .replace(/\$\{[^}]+\}/g, "?*"),
  );
}

/**
 * True when the Resource pattern covers every resource of one of the action's resource types (`arnFormats` from
 * the SAR): `role*`, `role/?*` and `role/**` all cover `arn:${Partition}:iam::${Account}:role/${RoleNameWithPath}`.
 */
export function coversEveryResourceOf(pattern: string, arnFormats: readonly string[]): boolean {
  if (isAnyResource(pattern)) return true;
  return arnFormats.some((format) => probes(format, pattern).some((probe) => wildcardCovers(pattern.trim(), probe)));
}
