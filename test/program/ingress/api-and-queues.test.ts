/**
 * WebhookIngress's API (route, stage, invoke permission), its FIFO job queue with dead-letter queue and alarm, and
 * the tags on its children.
 */
import { strict as assert } from "node:assert";
import { ACCOUNT, type Built, buildOrgScope, queuesOf, REGION, useIngress } from "./harness";

describe("WebhookIngress", () => {
  const h = useIngress();

  describe("org scope", () => {
    let built: Built;
    before(async () => {
      built = await buildOrgScope(h);
    });

    it("routes POST /github/webhook to the function with a Lambda proxy integration (payload 2.0)", () => {
      const api = built.one("aws:apigatewayv2/api:Api");
      assert.equal(api.inputs.protocolType, "HTTP");
      const route = built.one("aws:apigatewayv2/route:Route");
      const integration = built.one("aws:apigatewayv2/integration:Integration");
      const fn = built.one("aws:lambda/function:Function");
      assert.equal(route.inputs.routeKey, "POST /github/webhook");
      assert.equal(route.inputs.apiId, api.state.id);
      assert.equal(route.inputs.target, `integrations/${integration.state.id}`);
      assert.equal(integration.inputs.integrationType, "AWS_PROXY");
      assert.equal(integration.inputs.payloadFormatVersion, "2.0");
      assert.equal(integration.inputs.integrationUri, fn.state.arn);
      assert.ok(integration.inputs.timeoutMilliseconds < 10_000, "answers before GitHub's 10 s");
    });

    it("deploys the $default stage with throttling and access logs kept for the retention", () => {
      const stage = built.one("aws:apigatewayv2/stage:Stage");
      assert.equal(stage.inputs.name, "$default");
      assert.equal(stage.inputs.autoDeploy, true);
      assert.deepEqual(stage.inputs.defaultRouteSettings, { throttlingBurstLimit: 200, throttlingRateLimit: 100 });
      const accessLogs = built
        .byType("aws:cloudwatch/logGroup:LogGroup")
        .find((g) => g.state.arn === stage.inputs.accessLogSettings.destinationArn);
      assert.ok(accessLogs, "access logs go to a log group of the component");
      assert.equal(accessLogs.inputs.retentionInDays, 14);
      const format = JSON.parse(stage.inputs.accessLogSettings.format);
      assert.equal(format.status, "$context.status");
      assert.equal(format.requestId, "$context.requestId");
      for (const group of built.byType("aws:cloudwatch/logGroup:LogGroup"))
        assert.equal(group.inputs.retentionInDays, 14, group.name);
    });

    it("lets only this API's webhook route invoke the function", () => {
      const permission = built.one("aws:lambda/permission:Permission");
      const api = built.one("aws:apigatewayv2/api:Api");
      const fn = built.one("aws:lambda/function:Function");
      assert.equal(permission.inputs.action, "lambda:InvokeFunction");
      assert.equal(permission.inputs.principal, "apigateway.amazonaws.com");
      assert.equal(permission.inputs.function, fn.state.name);
      assert.equal(permission.inputs.sourceArn, `${api.state.executionArn}/*/POST/github/webhook`);
    });

    it("makes the job queue FIFO, encrypted, without delay, deduplicated per job by delivery id", () => {
      const { jobs } = queuesOf(built);
      assert.equal(jobs.inputs.fifoQueue, true);
      assert.equal(jobs.state.name.endsWith(".fifo"), true);
      assert.equal(jobs.inputs.sqsManagedSseEnabled, true);
      assert.equal(jobs.inputs.delaySeconds, 0);
      assert.equal(jobs.inputs.contentBasedDeduplication, false);
      assert.equal(jobs.inputs.deduplicationScope, "messageGroup");
      assert.equal(jobs.inputs.fifoThroughputLimit, "perMessageGroupId");
    });

    it("sets the visibility timeout to six times the launcher's timeout", () => {
      assert.equal(queuesOf(built).jobs.inputs.visibilityTimeoutSeconds, 6 * 45);
    });

    it("redrives to an encrypted FIFO dead-letter queue after maxReceiveCount, kept 14 days", () => {
      const { jobs, dlq } = queuesOf(built);
      assert.deepEqual(JSON.parse(jobs.inputs.redrivePolicy), {
        deadLetterTargetArn: dlq.state.arn,
        maxReceiveCount: 4,
      });
      assert.equal(dlq.inputs.fifoQueue, true);
      assert.equal(dlq.state.name.endsWith(".fifo"), true);
      assert.equal(dlq.inputs.sqsManagedSseEnabled, true);
      assert.equal(dlq.inputs.messageRetentionSeconds, 14 * 86400);
    });

    it("alarms when the dead-letter queue holds a message, notifying the topic", () => {
      const alarm = built.one("aws:cloudwatch/metricAlarm:MetricAlarm");
      const { dlq } = queuesOf(built);
      assert.equal(alarm.inputs.namespace, "AWS/SQS");
      assert.equal(alarm.inputs.metricName, "ApproximateNumberOfMessagesVisible");
      assert.deepEqual(alarm.inputs.dimensions, { QueueName: dlq.state.name });
      assert.equal(alarm.inputs.comparisonOperator, "GreaterThanThreshold");
      assert.equal(alarm.inputs.threshold, 0);
      assert.deepEqual(alarm.inputs.alarmActions, [`arn:aws:sns:${REGION}:${ACCOUNT}:alerts`]);
    });

    it("parents every child to the component and tags every taggable AWS child", () => {
      for (const child of built.children.filter((c) => c.custom && c.type.startsWith("aws:") && "tags" in c.inputs)) {
        assert.deepEqual(child.inputs.tags, { project: "cirunners" }, child.type);
      }
      const untagged = built.children.filter(
        (c) =>
          c.custom &&
          [
            "aws:sqs/queue:Queue",
            "aws:secretsmanager/secret:Secret",
            "aws:apigatewayv2/api:Api",
            "aws:cloudwatch/metricAlarm:MetricAlarm",
          ].includes(c.type) &&
          !c.inputs.tags,
      );
      assert.deepEqual(untagged, []);
    });
  });
});
