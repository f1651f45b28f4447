// IAM action names: `service:Action`, where both parts are case-insensitive and may contain `*`/`?`.
import { hasWildcard, wildcardCovers, wildcardMatch } from "./glob";

export interface ActionParts {
  service: string;
  name: string;
}

/** Splits `service:Action`; undefined for a malformed action (no colon) other than the bare `*`. */
export function splitAction(action: string): ActionParts | undefined {
  const colon = action.indexOf(":");
  if (colon < 0) {
    return undefined;
  }
  return { service: action.slice(0, colon), name: action.slice(colon + 1) };
}

function onlyWildcards(text: string): boolean {
  return text.length > 0 && /^[*?]*$/.test(text) && text.includes("*");
}

/** `*` (or `*:*`): every action of every service. */
export function isAllActionsWildcard(action: string): boolean {
  const trimmed = action.trim();
  if (onlyWildcards(trimmed)) {
    return true;
  }
  const parts = splitAction(trimmed);
  return parts !== undefined && onlyWildcards(parts.service) && (onlyWildcards(parts.name) || parts.name === "");
}

/**
 * The service name when `action` grants every action of one service (`s3:*`, `IAM:*`), else undefined.
 * Partial wildcards such as `s3:Get*` or `ec2:Describe*` are not service-wide.
 */
export function serviceWideWildcard(action: string): string | undefined {
  const parts = splitAction(action.trim());
  if (!parts || onlyWildcards(parts.service) || hasWildcard(parts.service)) {
    return undefined;
  }
  return onlyWildcards(parts.name) ? parts.service.toLowerCase() : undefined;
}

/**
 * True when the statement's action pattern grants the concrete action (case-insensitive, wildcards allowed
 * in the pattern): `iam:Pass*` and `*` both grant `iam:PassRole`.
 */
export function actionMatches(pattern: string, concreteAction: string): boolean {
  return wildcardMatch(pattern.trim(), concreteAction.trim(), true);
}

/**
 * True when every action the statement's `action` pattern can grant is inside `allowed` (itself a pattern):
 * `ec2:DescribeInstances` and `ec2:DescribeInst*` are covered by `ec2:Describe*`; `ec2:*` is not.
 */
export function actionCoveredBy(allowed: string, action: string): boolean {
  return wildcardCovers(allowed.trim(), action.trim(), true);
}
