/**
 * The one handler pattern every function follows: a Powertools Logger and Metrics named after the function (the
 * code names them, so `POWERTOOLS_SERVICE_NAME` / `POWERTOOLS_METRICS_NAMESPACE` are not read and need not be set),
 * and a container built once on the first invocation: settings read, clients created, then reused while the
 * Lambda container lives.
 */
import { Logger } from "@aws-lambda-powertools/logger";
import { Metrics } from "@aws-lambda-powertools/metrics";
import type { Context } from "aws-lambda";
import { type FunctionName, METRICS_NAMESPACE } from "../../contract/names.js";

export function powertools(name: FunctionName): { logger: Logger; metrics: Metrics } {
  return {
    logger: new Logger({ serviceName: name }),
    metrics: new Metrics({ namespace: METRICS_NAMESPACE, serviceName: name }),
  };
}

/** What the runtime's services log through (Powertools' Logger fits). */
export interface Log {
  info(message: string, ...extra: Record<string, unknown>[]): void;
  warn(message: string, ...extra: Record<string, unknown>[]): void;
  error(message: string, ...extra: Record<string, unknown>[]): void;
}

export type Handler<E, R, C = Context> = (event: E, context: C) => Promise<R>;

/**
 * A handler whose container (settings and clients) is built on the first invocation, from that invocation's
 * context (the function's own ARN gives partition, region and account), and reused afterwards. A build that
 * throws (misconfiguration) is tried again on the next invocation, so the error is reported every time.
 */
export function perContainer<E, R, C = Context>(build: (context: C) => Handler<E, R, C>): Handler<E, R, C> {
  let built: Handler<E, R, C> | undefined;
  return (event, context) => {
    built ??= build(context);
    return built(event, context);
  };
}
