// Lambda: asynchronously invoked functions must not drop failed events.
//
// Lambda retries an asynchronous invocation twice and then discards the event unless the function has a
// dead-letter queue (Function.deadLetterConfig.targetArn) or an on-failure destination
// (aws.lambda.FunctionEventInvokeConfig destinationConfig.onFailure.destination). Whether a function is
// invoked asynchronously is a property of the STACK, not of the function, so this is a stack policy:
//   - an aws:lambda/permission:Permission granting lambda:InvokeFunction to an asynchronous service principal
//     (EventBridge events/scheduler, SNS, S3, CloudWatch Logs, SES, IoT, CodeCommit, Config, CloudFormation, ...);
//   - an aws:scheduler/schedule:Schedule whose target.arn is the function;
//   - an aws:cloudwatch/eventTarget:EventTarget whose arn is the function;
//   - an aws:sns/topicSubscription:TopicSubscription with protocol "lambda" and the function as endpoint;
//   - an aws:s3/bucketNotification:BucketNotification with the function in lambdaFunctions[].lambdaFunctionArn.
// SQS/Kinesis/DynamoDB event source mappings and API Gateway / function URL invocations are synchronous and
// need none. References are matched by function name or ARN; when a reference is unknown during preview the
// engine's property dependencies (the Function the property was computed from) identify the function.
import type { StackValidationPolicy } from "@pulumi/policy";
import { actionMatches } from "../lib/actions";
import type { ExemptionConfig } from "../lib/exemptions";
import { defineStackPolicy, stackExempt } from "../lib/kit";
import { T } from "../lib/types";
import { isRecord, isUnknown } from "../lib/unknown";

/** What the analysis needs of a stack resource. */
export interface StackResourceLike {
  type: string;
  name: string;
  urn: string;
  props: Record<string, unknown>;
  propertyDependencies?: Record<string, string[]>;
}

export const DEFAULT_ASYNC_PRINCIPALS = [
  "events.amazonaws.com",
  "scheduler.amazonaws.com",
  "sns.amazonaws.com",
  "s3.amazonaws.com",
  "logs.amazonaws.com",
  "ses.amazonaws.com",
  "iot.amazonaws.com",
  "iotevents.amazonaws.com",
  "codecommit.amazonaws.com",
  "config.amazonaws.com",
  "cloudformation.amazonaws.com",
  "codepipeline.amazonaws.com",
];

/** `events.amazonaws.com` / `logs.eu-west-1.amazonaws.com` / `sns.amazonaws.com.cn` → `events` / `logs` / `sns`. */
export function principalService(principal: string): string | undefined {
  const m = /^([a-z0-9-]+)(\.[a-z0-9-]+)?\.amazonaws\.com(\.cn)?$/i.exec(principal.trim());
  return m ? m[1].toLowerCase() : undefined;
}

/** The function name a Lambda reference denotes: a name, `name:qualifier`, a full or partial function ARN. */
export function lambdaFunctionName(ref: string): string | undefined {
  const r = ref.trim();
  if (r === "") {
    return undefined;
  }
  const parts = r.split(":");
  if (parts[0] === "arn") {
    // arn:PARTITION:lambda:REGION:ACCOUNT:function:NAME[:QUALIFIER]
    return parts[2] === "lambda" && parts[5] === "function" && parts[6] ? parts[6] : undefined;
  }
  if (/^\d{12}$/.test(parts[0]) && parts[1] === "function" && parts[2]) {
    return parts[2];
  }
  return parts[0];
}

function isLambdaArn(ref: string): boolean {
  return /^arn:[^:]+:lambda:[^:]*:[^:]*:function:/.test(ref.trim());
}

export interface AsyncFunctionFinding {
  fn: StackResourceLike;
  /** Human descriptions of what invokes it asynchronously. */
  triggers: string[];
}

export interface AsyncAnalysisOptions {
  asyncPrincipals?: readonly string[];
}

/**
 * Returns the functions that are certainly invoked asynchronously and certainly have neither a dead-letter
 * target nor an on-failure destination. Linear in the number of resources (name/ARN/URN maps).
 */
export function findAsyncFunctionsWithoutFailureHandling(
  resources: readonly StackResourceLike[],
  options: AsyncAnalysisOptions = {},
): AsyncFunctionFinding[] {
  const asyncServices = new Set(
    (options.asyncPrincipals ?? DEFAULT_ASYNC_PRINCIPALS).map((p) => principalService(p) ?? p.toLowerCase()),
  );
  const functions: StackResourceLike[] = [];
  const byName = new Map<string, StackResourceLike>();
  const byArn = new Map<string, StackResourceLike>();
  const byUrn = new Map<string, StackResourceLike>();
  for (const r of resources) {
    if (r.type !== T.lambdaFunction) {
      continue;
    }
    functions.push(r);
    byUrn.set(r.urn, r);
    if (typeof r.props.name === "string" && !isUnknown(r.props.name)) byName.set(r.props.name, r);
    if (typeof r.props.arn === "string" && !isUnknown(r.props.arn)) byArn.set(r.props.arn, r);
  }
  if (functions.length === 0) {
    return [];
  }

  /** Resolves a function reference; `resolved: false` when it is unknown and cannot be attributed. */
  const resolve = (
    ref: unknown,
    owner: StackResourceLike,
    prop: string,
  ): { fn?: StackResourceLike; resolved: boolean } => {
    if (typeof ref === "string" && !isUnknown(ref)) {
      const name = lambdaFunctionName(ref);
      return { fn: byArn.get(ref) ?? (name !== undefined ? byName.get(name) : undefined), resolved: true };
    }
    if (isUnknown(ref)) {
      const deps = (owner.propertyDependencies?.[prop] ?? [])
        .map((u) => byUrn.get(u))
        .filter((f): f is StackResourceLike => f !== undefined);
      const unique = [...new Set(deps)];
      return unique.length === 1 ? { fn: unique[0], resolved: true } : { resolved: false };
    }
    return { resolved: true };
  };

  const triggers = new Map<StackResourceLike, string[]>();
  const addTrigger = (fn: StackResourceLike | undefined, description: string): void => {
    if (!fn) return;
    const list = triggers.get(fn) ?? [];
    list.push(description);
    triggers.set(fn, list);
  };
  const handled = new Set<StackResourceLike>();
  let unattributedHandler = false;

  for (const r of resources) {
    const p = r.props;
    switch (r.type) {
      case T.lambdaPermission: {
        const action = p.action;
        const principal = p.principal;
        if (typeof action !== "string" || isUnknown(action) || !actionMatches(action, "lambda:InvokeFunction")) break;
        if (typeof principal !== "string" || isUnknown(principal)) break;
        const service = principalService(principal);
        if (service === undefined || !asyncServices.has(service)) break;
        addTrigger(resolve(p.function, r, "function").fn, `${T.lambdaPermission} "${r.name}" (principal ${principal})`);
        break;
      }
      case T.schedulerSchedule: {
        const target = p.target;
        if (isUnknown(target)) {
          addTrigger(resolve(target, r, "target").fn, `${T.schedulerSchedule} "${r.name}"`);
        } else if (isRecord(target)) {
          const arn = target.arn;
          if (isUnknown(arn) || (typeof arn === "string" && isLambdaArn(arn))) {
            addTrigger(resolve(arn, r, "target").fn, `${T.schedulerSchedule} "${r.name}"`);
          }
        }
        break;
      }
      case T.eventTarget: {
        const arn = p.arn;
        if (isUnknown(arn) || (typeof arn === "string" && isLambdaArn(arn))) {
          addTrigger(resolve(arn, r, "arn").fn, `${T.eventTarget} "${r.name}"`);
        }
        break;
      }
      case T.snsTopicSubscription: {
        if (p.protocol === "lambda") {
          addTrigger(resolve(p.endpoint, r, "endpoint").fn, `${T.snsTopicSubscription} "${r.name}"`);
        }
        break;
      }
      case T.s3BucketNotification: {
        const list = p.lambdaFunctions;
        if (isUnknown(list)) {
          addTrigger(resolve(list, r, "lambdaFunctions").fn, `${T.s3BucketNotification} "${r.name}"`);
        } else if (Array.isArray(list)) {
          for (const entry of list) {
            const ref = isRecord(entry) ? entry.lambdaFunctionArn : entry;
            addTrigger(resolve(ref, r, "lambdaFunctions").fn, `${T.s3BucketNotification} "${r.name}"`);
          }
        }
        break;
      }
      case T.lambdaFunction: {
        const dlq = p.deadLetterConfig;
        if (
          isUnknown(dlq) ||
          (isRecord(dlq) && (isUnknown(dlq.targetArn) || (typeof dlq.targetArn === "string" && dlq.targetArn !== "")))
        ) {
          handled.add(r);
        }
        break;
      }
      case T.lambdaEventInvokeConfig: {
        const dest = p.destinationConfig;
        const onFailure = isRecord(dest) ? dest.onFailure : undefined;
        const hasFailureDestination =
          isUnknown(dest) ||
          isUnknown(onFailure) ||
          (isRecord(onFailure) &&
            (isUnknown(onFailure.destination) ||
              (typeof onFailure.destination === "string" && onFailure.destination !== "")));
        if (!hasFailureDestination) break;
        const target = resolve(p.functionName, r, "functionName");
        if (!target.resolved) {
          unattributedHandler = true;
        } else if (target.fn) {
          handled.add(target.fn);
        }
        break;
      }
    }
  }
  if (unattributedHandler) {
    return []; // a failure destination whose function is unknown may belong to any function: nothing is certain
  }
  const findings: AsyncFunctionFinding[] = [];
  for (const fn of functions) {
    const t = triggers.get(fn);
    if (t && !handled.has(fn)) {
      findings.push({ fn, triggers: t });
    }
  }
  return findings;
}

interface AsyncLambdaConfig extends ExemptionConfig {
  asyncPrincipals?: string[];
}

export const asyncLambdaFailureDestination: StackValidationPolicy = defineStackPolicy<AsyncLambdaConfig>({
  name: "aws-lambda-function-async-failure-destination",
  description:
    "Lambda functions invoked asynchronously (EventBridge, Scheduler, SNS, S3, ...) must have a dead-letter queue or an on-failure destination.",
  enforcementLevel: "mandatory",
  severity: "high",
  remediationSteps:
    "Set deadLetterConfig: { targetArn: <SQS queue or SNS topic ARN> } on the function (its role needs sqs:SendMessage / sns:Publish on it), or add " +
    "new aws.lambda.FunctionEventInvokeConfig(..., { functionName: fn.name, destinationConfig: { onFailure: { destination: <queue/topic/function/bus ARN> } } }). " +
    "Functions fed by SQS event source mappings or API Gateway are synchronous and need neither.",
  config: {
    asyncPrincipals: {
      type: "array",
      items: { type: "string" },
      default: DEFAULT_ASYNC_PRINCIPALS,
      description: "Service principals whose lambda:InvokeFunction permission makes a function asynchronous.",
    },
  },
  tags: ["lambda", "reliability"],
  types: [T.lambdaFunction],
  check: ({ resources, config, report }) => {
    for (const finding of findAsyncFunctionsWithoutFailureHandling(resources, {
      asyncPrincipals: config.asyncPrincipals,
    })) {
      if (stackExempt(finding.fn, config)) {
        continue;
      }
      const fnName =
        typeof finding.fn.props.name === "string" && !isUnknown(finding.fn.props.name)
          ? finding.fn.props.name
          : finding.fn.name;
      report(
        `Lambda function "${fnName}" is invoked asynchronously by ${finding.triggers.join(", ")}, but failed events are discarded after Lambda's ` +
          `retries: it has no deadLetterConfig.targetArn and no ${T.lambdaEventInvokeConfig} with destinationConfig.onFailure.destination. ` +
          `Add a dead-letter queue or an on-failure destination for it.`,
        finding.fn.urn,
      );
    }
  },
});
