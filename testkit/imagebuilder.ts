/**
 * A local EC2 Image Builder, next to the other stand-ins, for the runner-cache tests (moto 5.2.5 has no Image Builder): only
 * StartImagePipelineExecution, on Image Builder's wire protocol — REST-JSON, `PUT /StartImagePipelineExecution`
 * with `{ imagePipelineArn, clientToken }`, signed with SigV4 for the signing name `imagebuilder` (the SDK's
 * bundled model, @aws-sdk/client-imagebuilder dist-cjs/schemas). Errors carry the modelled status and the error
 * type in `x-amzn-errortype`, as restJson1 does. Client tokens are idempotent: the same token with the same
 * pipeline returns the first execution and starts nothing; with another pipeline it is an
 * IdempotentParameterMismatchException (API Reference: clientToken 1–36 characters).
 */
import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export interface ImageBuilderStandIn {
  url: string;
  /** Pipelines that exist (by ARN); a start of any other is ResourceNotFoundException. */
  pipelines: Set<string>;
  /** Every execution actually started, in order. */
  executions: { pipelineArn: string; clientToken: string; imageBuildVersionArn: string }[];
  /** Every request received (the idempotent repeats included). */
  requests: { method: string; path: string; authorization?: string; body: unknown }[];
  /** Makes the next `count` starts of `pipelineArn` fail with `errorType` (HTTP `status`). */
  failNext(pipelineArn: string, errorType: string, status: number, count?: number): void;
  reset(): void;
  stop(): Promise<void>;
}

const PIPELINE_ARN = /^arn:aws[^:]*:imagebuilder:[^:]+:(?:[0-9]{12}|aws):image-pipeline\/[a-z0-9-_]+$/;

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

function answer(res: ServerResponse, status: number, body: unknown, errorType?: string): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    "content-type": "application/json",
    "content-length": String(Buffer.byteLength(text)),
    "x-amzn-requestid": randomUUID(),
    ...(errorType ? { "x-amzn-errortype": errorType } : {}),
  });
  res.end(text);
}

export async function startImageBuilderStandIn(): Promise<ImageBuilderStandIn> {
  const state = {
    pipelines: new Set<string>(),
    executions: [] as ImageBuilderStandIn["executions"],
    requests: [] as ImageBuilderStandIn["requests"],
    tokens: new Map<string, { pipelineArn: string; imageBuildVersionArn: string }>(),
    failures: new Map<string, { errorType: string; status: number; count: number }>(),
  };
  const fail = (res: ServerResponse, status: number, errorType: string, message: string) =>
    answer(res, status, { message }, errorType);

  const server = createServer(async (req, res) => {
    const raw = await readBody(req);
    let body: Record<string, unknown> = {};
    try {
      body = raw ? (JSON.parse(raw) as Record<string, unknown>) : {};
    } catch {
      return fail(res, 400, "InvalidRequestException", "request body is not JSON");
    }
    const path = (req.url ?? "").split("?")[0];
    state.requests.push({ method: req.method ?? "", path, authorization: req.headers.authorization, body });
    if (req.method !== "PUT" || path !== "/StartImagePipelineExecution")
      return fail(res, 400, "InvalidRequestException", `the stand-in serves PUT /StartImagePipelineExecution only`);
    if (
      !/^AWS4-HMAC-SHA256 Credential=[^/]+\/\d{8}\/[^/]+\/imagebuilder\/aws4_request/.test(
        req.headers.authorization ?? "",
      )
    )
      return fail(res, 403, "ForbiddenException", "missing or wrong SigV4 signature scope");
    const { imagePipelineArn, clientToken } = body;
    if (typeof imagePipelineArn !== "string" || !PIPELINE_ARN.test(imagePipelineArn))
      return fail(res, 400, "InvalidParameterValueException", "imagePipelineArn is not an image pipeline ARN");
    if (typeof clientToken !== "string" || clientToken.length < 1 || clientToken.length > 36)
      return fail(res, 400, "InvalidParameterValueException", "clientToken must be 1 to 36 characters");

    const earlier = state.tokens.get(clientToken);
    if (earlier) {
      if (earlier.pipelineArn !== imagePipelineArn)
        return fail(res, 400, "IdempotentParameterMismatchException", "clientToken was used with other parameters");
      return answer(res, 200, {
        requestId: randomUUID(),
        clientToken,
        imageBuildVersionArn: earlier.imageBuildVersionArn,
      });
    }
    const failure = state.failures.get(imagePipelineArn);
    if (failure && failure.count > 0) {
      failure.count -= 1;
      return fail(res, failure.status, failure.errorType, `injected ${failure.errorType}`);
    }
    if (!state.pipelines.has(imagePipelineArn))
      return fail(res, 404, "ResourceNotFoundException", `pipeline ${imagePipelineArn} does not exist`);
    const sequence = state.executions.filter((e) => e.pipelineArn === imagePipelineArn).length + 1;
    const imageBuildVersionArn = `${imagePipelineArn.replace(":image-pipeline/", ":image/")}/1.0.0/${sequence}`;
    state.tokens.set(clientToken, { pipelineArn: imagePipelineArn, imageBuildVersionArn });
    state.executions.push({ pipelineArn: imagePipelineArn, clientToken, imageBuildVersionArn });
    return answer(res, 200, { requestId: randomUUID(), clientToken, imageBuildVersionArn });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    get pipelines() {
      return state.pipelines;
    },
    get executions() {
      return state.executions;
    },
    get requests() {
      return state.requests;
    },
    failNext(pipelineArn, errorType, status, count = 1) {
      state.failures.set(pipelineArn, { errorType, status, count });
    },
    reset() {
      state.pipelines.clear();
      state.executions.length = 0;
      state.requests.length = 0;
      state.tokens.clear();
      state.failures.clear();
    },
    async stop() {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
