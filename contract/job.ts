/**
 * The job message: what the webhook puts on the job queue and the launcher takes off it. One schema, one encoder
 * (webhook) and one decoder (launcher), so a message the webhook can produce is a message the launcher accepts.
 */
import * as z from "zod/mini";
import "./zod";

/**
 * `owner/name`. Owners are GitHub logins (letters, digits, hyphens; Enterprise Managed Users add `_shortcode`),
 * repository names letters, digits, `.`, `_` and `-` (GitHub's rules for new repositories).
 */
export const REPOSITORY_FULL_NAME = /^[A-Za-z0-9][A-Za-z0-9_-]{0,99}\/[A-Za-z0-9_.-]{1,100}$/;

/** `X-GitHub-Delivery`, kept for tracing: printable ASCII without space, 1-128 characters. GitHub sends a GUID. */
export const DELIVERY_ID = /^[\x21-\x7e]{1,128}$/;

const positiveInteger = z.number().check(z.int(), z.positive(), z.maximum(Number.MAX_SAFE_INTEGER));

export const jobMessageSchema = z.strictObject({
  version: z.literal(1),
  /** `X-GitHub-Delivery` of the webhook that asked for this launch; absent when the reconciler asked. */
  deliveryId: z.optional(
    z.string().check(z.regex(DELIVERY_ID, "expected 1-128 printable ASCII characters without spaces")),
  ),
  /**
   * The ledger record's version when the launch was asked for. Each launch decision follows its own write that
   * put the job in `queued`, so `<jobId>-<recordVersion>` is unique per decision: it is the queue's
   * deduplication id (a relaunch is never dropped as a duplicate; the same decision sent twice is).
   */
  recordVersion: z.number().check(z.int(), z.nonnegative()),
  pool: z.string().check(z.minLength(1)),
  jobId: positiveInteger,
  runId: positiveInteger,
  runAttempt: positiveInteger,
  repository: z.string().check(z.regex(REPOSITORY_FULL_NAME, 'expected "owner/name"')),
  owner: z.string().check(z.minLength(1)),
  /**
   * The GitHub App installation, when the delivery came from the App's own webhook. Organization and repository
   * webhooks (the ones this program creates) carry none: the launcher then looks the installation up.
   */
  installationId: z.optional(positiveInteger),
  labels: z.array(z.string().check(z.trim(), z.minLength(1))).check(z.minLength(1)),
  /** ISO time the webhook function accepted the job (for launch-latency metrics). */
  enqueuedAt: z.iso.datetime(),
});

export type JobMessage = z.infer<typeof jobMessageSchema>;

export type Decoded<T> = { ok: true; value: T } | { ok: false; field: string; reason: string };

/** Checks a message and returns its body, or the first field that is wrong. */
export function encodeJobMessage(message: JobMessage): Decoded<string> {
  const checked = check(message);
  return checked.ok ? { ok: true, value: JSON.stringify(checked.value) } : checked;
}

/** Parses one queue body into a `JobMessage`, naming the first field that is wrong. Never throws. */
export function decodeJobMessage(body: string): Decoded<JobMessage> {
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch (error) {
    return { ok: false, field: "", reason: `body is not JSON: ${(error as Error).message}` };
  }
  return check(value);
}

function check(value: unknown): Decoded<JobMessage> {
  const parsed = jobMessageSchema.safeParse(value);
  if (parsed.success) return { ok: true, value: parsed.data };
  const issue = parsed.error.issues[0];
  const field = issue.path.map(String).join(".");
  return { ok: false, field, reason: field ? `${field}: ${issue.message}` : issue.message };
}
