/**
 * What the webhook decides about a delivery. Every decision carries the HTTP status GitHub will see and a short
 * machine-readable reason (used as the metric dimension) next to a message for people.
 */
import type { JobDelivery } from "../jobs/lifecycle.js";

/** Why a request was refused (4xx): the sender must change something before it can succeed. */
export type RejectReason =
  | "method-not-allowed"
  | "body-too-large"
  | "body-empty"
  | "body-not-utf8"
  | "signature-missing"
  | "signature-sha1-only"
  | "signature-malformed"
  | "signature-mismatch"
  | "header-missing"
  | "header-invalid"
  | "json-malformed"
  | "field-missing"
  | "field-invalid";

/** Why a valid delivery needs no runner. */
export type IgnoreReason =
  | "event-not-handled"
  | "action-not-handled"
  | "other-owner"
  | "repository-not-configured"
  | "no-matching-pool";

export interface Rejection {
  kind: "reject";
  status: 400 | 401 | 405 | 413;
  reason: RejectReason;
  message: string;
}

export interface Ignored {
  kind: "ignore";
  status: 200;
  reason: IgnoreReason;
  message: string;
  /** Details worth logging (job id, labels, repository), never secrets. */
  details?: Record<string, unknown>;
}

/** GitHub's `ping`, sent when the webhook is created. */
export interface Pong {
  kind: "pong";
  status: 200;
}

/** A `workflow_job` delivery about a job of this stack: it is recorded in the ledger. */
export interface Accepted {
  kind: "accept";
  status: 202;
  delivery: JobDelivery;
}

/** A signed delivery's classification, with the delivery id it was read under. */
export type Classification = (Accepted | Ignored | Pong | Rejection) & { deliveryId?: string };
