/** Reading the offline preview's recorded Pulumi inputs: plain strings, AWS tag lists, names inside URLs and ARNs. */
import type { Tag } from "@aws-sdk/client-ec2";

export function str(value: unknown): string | undefined {
  return value === undefined || value === null ? undefined : String(value);
}

/** A recorded boolean input (Pulumi records some as strings, e.g. `encrypted: "true"`). */
export function bool(value: unknown): boolean | undefined {
  return str(value) === undefined ? undefined : str(value) === "true";
}

export function num(value: unknown): number | undefined {
  return value === undefined ? undefined : Number(value);
}

export function tagList(tags: unknown): Tag[] {
  if (!tags || typeof tags !== "object") return [];
  return Object.entries(tags as Record<string, unknown>).map(([Key, Value]) => ({ Key, Value: String(Value) }));
}

export function queueNameFromUrl(url: string): string {
  return url.slice(url.lastIndexOf("/") + 1);
}

export function queueNameFromArn(arn: string): string {
  return arn.slice(arn.lastIndexOf(":") + 1);
}
