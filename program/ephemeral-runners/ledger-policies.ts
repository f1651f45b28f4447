/**
 * The job ledger's IAM statements: each function gets the DynamoDB actions its code sends (the commands in
 * `runtime/adapters/ledger.ts` that the function's handler reaches) on the table's ARN, and `dynamodb:Query` on the
 * `due` index's ARN only for the function that lists due jobs. Item actions are authorised on the table ARN; a
 * Query on an index on `table/<name>/index/<index>` (Service Authorization Reference, DynamoDB resource types).
 */
import type { PolicyStatement } from "../shared/iam";

export type LedgerItemAction = "dynamodb:GetItem" | "dynamodb:PutItem" | "dynamodb:UpdateItem";

export interface LedgerAccess {
  /** Item actions on the table. */
  readonly items: readonly LedgerItemAction[];
  /** Whether the function queries the `due` index (the reconciler's work list). */
  readonly queryDue: boolean;
}

/**
 * What each function does with the ledger, from its runtime code:
 * - webhook: records what GitHub says — creates a record on the first delivery (PutItem, conditional on absence),
 *   then moves it (UpdateItem, conditional on state and version), reading it first (GetItem).
 * - launcher: reads the job (GetItem) and claims it before launching (UpdateItem `queued → launching`), then
 *   records the runner (UpdateItem). It never creates records.
 * - reaper: asks whether an instance's job is still live (GetItem); it writes nothing.
 * - reconciler: lists due jobs per pool (Query on `due`), re-reads one before acting (GetItem) and moves it
 *   (UpdateItem: relaunch, cancel, expire).
 */
export const LEDGER_ACCESS = {
  webhook: { items: ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"], queryDue: false },
  launcher: { items: ["dynamodb:GetItem", "dynamodb:UpdateItem"], queryDue: false },
  reaper: { items: ["dynamodb:GetItem"], queryDue: false },
  reconciler: { items: ["dynamodb:GetItem", "dynamodb:UpdateItem"], queryDue: true },
} as const satisfies Record<string, LedgerAccess>;

export type LedgerUser = keyof typeof LEDGER_ACCESS;

/** The table's and its index's ARNs (both from contract/arn.ts, in the stack's partition). */
export interface LedgerArns {
  tableArn: string;
  dueIndexArn: string;
}

/** The ledger statements of function `user`. */
export function ledgerStatements(user: LedgerUser, arns: LedgerArns): PolicyStatement[] {
  const access: LedgerAccess = LEDGER_ACCESS[user];
  const statements: PolicyStatement[] = [
    {
      Sid: "JobLedgerItems",
      Effect: "Allow",
      Action: [...access.items],
      Resource: arns.tableArn,
    },
  ];
  if (access.queryDue) {
    statements.push({
      Sid: "JobLedgerDueJobs",
      Effect: "Allow",
      Action: ["dynamodb:Query"],
      Resource: arns.dueIndexArn,
    });
  }
  return statements;
}
