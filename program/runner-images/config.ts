/**
 * The runner image pipeline's settings (`cirunners:runnerImages`), composed into the stack schema as
 * `runnerImages: runnerImagesSchema.prefault({})`. Every key has a default: a pool with `image: baked` is enough
 * to get a pipeline for its architecture.
 */
import { z } from "zod";
import { INSTANCE_TYPE_PATTERN, instanceTypeArchitecture } from "../config/primitives";

const instanceTypes = (architecture: "x64" | "arm64", fallback: string[]) =>
  z
    .array(z.string().regex(INSTANCE_TYPE_PATTERN, "expected an EC2 instance type like c7i.large"))
    .min(1, "expected at least one instance type")
    .default(fallback)
    .superRefine((types, ctx) => {
      types.forEach((type, i) => {
        if (INSTANCE_TYPE_PATTERN.test(type) && instanceTypeArchitecture(type) !== architecture)
          ctx.addIssue({
            code: "custom",
            path: [i],
            message: `${type} is ${instanceTypeArchitecture(type)}, but this list builds the ${architecture} image`,
            input: type,
          });
      });
    });

export const runnerImagesSchema = z
  .object({
    /**
     * When the pipelines build (EventBridge cron syntax, in `timezone`). Each build picks up the newest runner in
     * the cache and the newest Amazon Linux 2023, so a daily build keeps a baked image at most a day behind both.
     */
    schedule: z
      .string()
      .regex(/^cron\(\S+( \S+){5}\)$/, 'expected a six-field cron expression like "cron(0 4 * * ? *)"')
      .default("cron(0 4 * * ? *)"),
    timezone: z.string().min(1).default("UTC"),
    /** Build instance types per architecture (Image Builder tries them in order). */
    instanceTypes: z
      .object({ x64: instanceTypes("x64", ["c7i.large"]), arm64: instanceTypes("arm64", ["c7g.large"]) })
      .strict()
      .prefault({}),
    /** Root volume of the baked image; a pool's diskSizeGiB must be at least this. */
    volumeSizeGiB: z.number().int().min(8).max(1024).default(20),
  })
  .strict();

export type RunnerImagesConfig = z.output<typeof runnerImagesSchema>;
export type RunnerImagesConfigInput = z.input<typeof runnerImagesSchema>;

/** Pools that take a baked image but have a disk smaller than the image's root volume (EC2 would refuse the launch). */
export function bakedDiskIssues(
  pools: readonly { name: string; image?: string; diskSizeGiB: number }[],
  images: RunnerImagesConfig,
): string[] {
  return pools
    .filter((p) => p.image === "baked" && p.diskSizeGiB < images.volumeSizeGiB)
    .map(
      (p) =>
        `pool ${p.name}: diskSizeGiB ${p.diskSizeGiB} is smaller than the baked image's volume (runnerImages.volumeSizeGiB ${images.volumeSizeGiB})`,
    );
}
