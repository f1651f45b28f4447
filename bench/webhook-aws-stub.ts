/** AWS on loopback for bench/webhook.ts: answers the JSON-protocol calls the webhook makes, as the SDK expects. */
import { createHash, randomUUID } from "node:crypto";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";

/** The webhook secret's ARN the benchmark gives the function (the stub answers any SecretId the same). */
export const BENCH_SECRET_ARN =
  "arn:aws:secretsmanager:eu-west-1:000000000000:secret:cirunners-bench-webhook-secret-AbCdEf";

export interface AwsStub {
  url: string;
  secret: string;
  calls: Map<string, number>;
  close(): Promise<void>;
}

/** Answers the JSON-protocol calls the webhook makes (x-amz-target), with the fields the SDK checks. */

export async function startAwsStub(secret: string): Promise<AwsStub> {
  const calls = new Map<string, number>();
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const target = String(req.headers["x-amz-target"] ?? "");
      const action = target.split(".").pop() ?? "";
      calls.set(target, (calls.get(target) ?? 0) + 1);
      const input = chunks.length
        ? (JSON.parse(Buffer.concat(chunks).toString("utf8")) as Record<string, unknown>)
        : {};
      let status = 200;
      let body: unknown;
      if (target === "AmazonSQS.SendMessage") {
        body = {
          MessageId: randomUUID(),
          MD5OfMessageBody: createHash("md5")
            .update(String(input.MessageBody ?? ""), "utf8")
            .digest("hex"),
          SequenceNumber: "1",
        };
      } else if (target === "secretsmanager.GetSecretValue") {
        // GetSecretValueResponse in the SDK's model; AWS JSON 1.1 sends CreatedDate as epoch seconds.
        body = {
          ARN: BENCH_SECRET_ARN,
          Name: "cirunners-bench-webhook-secret",
          VersionId: "00000000-0000-4000-8000-000000000001",
          SecretString: secret,
          VersionStages: ["AWSCURRENT"],
          CreatedDate: 1_700_000_000,
        };
      } else if (
        target.startsWith("DynamoDB_20120810.") &&
        /^(PutItem|UpdateItem|TransactWriteItems|GetItem)$/.test(action)
      ) {
        body = {};
      } else {
        status = 400;
        body = { __type: "UnknownOperationException", message: `stub does not answer ${target}` };
      }
      const text = JSON.stringify(body);
      res.writeHead(status, {
        "content-type": target.startsWith("DynamoDB") ? "application/x-amz-json-1.0" : "application/x-amz-json-1.1",
        "content-length": Buffer.byteLength(text),
        "x-amzn-requestid": randomUUID(),
      });
      res.end(text);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    secret,
    calls,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
