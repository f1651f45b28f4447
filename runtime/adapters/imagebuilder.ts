/**
 * Every EC2 Image Builder call of the functions: starting a runner image pipeline (the runner-cache function, when
 * it has cached a new runner version). REST-JSON: `PUT /StartImagePipelineExecution` with `imagePipelineArn` and
 * `clientToken` (1–36 characters) in the body (Image Builder API Reference, StartImagePipelineExecution).
 */
import { type ImagebuilderClient, StartImagePipelineExecutionCommand } from "@aws-sdk/client-imagebuilder";

/**
 * Starts one build of `pipelineArn`. The same `clientToken` with the same pipeline does not start a second build:
 * Image Builder answers with the first request's result (the API's idempotency, "Ensuring idempotency" in the EC2
 * API Reference, which Image Builder refers to). Returns the ARN of the image version the build makes.
 */
export async function startImagePipeline(
  imagebuilder: ImagebuilderClient,
  pipelineArn: string,
  clientToken: string,
): Promise<{ imageBuildVersionArn?: string }> {
  const response = await imagebuilder.send(
    new StartImagePipelineExecutionCommand({ imagePipelineArn: pipelineArn, clientToken }),
  );
  return response.imageBuildVersionArn ? { imageBuildVersionArn: response.imageBuildVersionArn } : {};
}
