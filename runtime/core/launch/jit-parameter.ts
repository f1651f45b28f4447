/**
 * The SSM parameter that hands an instance its runner's just-in-time config. Pure.
 *
 * Named by instance id and tagged with the instance's ARN: the instance role may read and delete only the
 * parameter whose tag names its own instance (program/ephemeral-runners/policies.ts), so none reads another's config.
 */
import { type AwsLocation, ec2Arn } from "../../../contract/arn.js";
import { runnerParameterName, TAG } from "../../../contract/names.js";

export interface JitParameterPlace {
  stack: string;
  location: AwsLocation;
  parameterPrefix: string;
}

export function jitParameter(
  place: JitParameterPlace,
  pool: string,
  instanceId: string,
  runner: { runnerName: string; encodedJitConfig: string },
): { name: string; value: string; description: string; tags: { Key: string; Value: string }[] } {
  return {
    name: runnerParameterName(place.parameterPrefix, instanceId),
    value: runner.encodedJitConfig,
    description: `JIT config of runner ${runner.runnerName}`,
    tags: [
      { Key: TAG.instanceArn, Value: ec2Arn(place.location, `instance/${instanceId}`) },
      { Key: TAG.stack, Value: place.stack },
      { Key: TAG.pool, Value: pool },
    ],
  };
}
