/**
 * Each function's environment, as one zod schema per function over the variable names in `ENV`. A function reads
 * its settings once per container with `readSettings`; a misconfigured function fails at start-up with every bad
 * variable named, instead of dropping jobs later. The program builds the same variables with `settingsEnvironment`.
 */
import * as z from "zod/mini";
import "./zod";
import { ENV } from "./names";
import { runtimePoolSchema, warmPoolSchema } from "./pool";

/** A variable holding JSON, decoded and then checked against `schema`. */
function json<T extends z.ZodMiniType>(schema: T) {
  return z.pipe(
    z.pipe(
      z.string().check(z.minLength(1)),
      z.transform((raw: string, ctx) => {
        try {
          return JSON.parse(raw) as unknown;
        } catch (error) {
          ctx.issues.push({ code: "custom", message: `not valid JSON: ${(error as Error).message}`, input: raw });
          return z.NEVER;
        }
      }),
    ),
    schema,
  );
}

const text = z.string().check(z.minLength(1));
const positiveNumber = (fallback: number) => z._default(z.coerce.number().check(z.positive()), fallback);
const scope = z._default(z.enum(["org", "repo"]), "org");
const pools = json(z.array(runtimePoolSchema).check(z.minLength(1)));
/** Repository names without owner (`targetKey`'s repo part); GitHub names: letters, digits, `.`, `_`, `-`. */
const repositories = json(
  z.array(z.string().check(z.regex(/^[A-Za-z0-9_.-]{1,100}$/, "expected a repository name without owner"))),
);
/** `targetKey(target)` → the id of the webhook GitHub delivers that target's jobs through. */
const TARGET_KEY = /^(org:[^/\s]+|repo:[^/\s]+\/[^/\s]+)$/;
const hookIds = z.record(z.string(), z.number().check(z.int(), z.positive())).check(
  z.superRefine((ids, ctx) => {
    for (const key of Object.keys(ids).filter((k) => !TARGET_KEY.test(k)))
      ctx.addIssue({
        code: "custom",
        path: [key],
        message: 'expected a target key like "org:acme" or "repo:acme/app"',
      });
  }),
);
const poolsWithTemplates = json(
  z
    .array(z.required(runtimePoolSchema, { launchTemplateId: true }))
    .check(z.minLength(1, "expected at least one pool")),
);

/** The GitHub App's identity, read by every function that calls GitHub as the App. */
export const githubAppSettings = {
  [ENV.appId]: z.coerce.number().check(z.int(), z.positive()),
  [ENV.appPrivateKeyParameter]: text,
  [ENV.githubApiUrl]: z.pipe(
    z._default(z.url(), "https://api.github.com"),
    z.transform((url: string) => url.replace(/\/+$/, "")),
  ),
};

const launchSettings = {
  ...githubAppSettings,
  [ENV.pools]: poolsWithTemplates,
  [ENV.runnerScope]: scope,
  [ENV.githubOwner]: text,
  [ENV.runnerGroupId]: z._default(z.coerce.number().check(z.int(), z.positive()), 1),
  [ENV.runnerParameterPrefix]: text,
  [ENV.stack]: text,
  [ENV.subnetIds]: json(
    z.array(z.string().check(z.regex(/^subnet-[0-9a-f]+$/, "expected a subnet id"))).check(z.minLength(1)),
  ),
};

export const SETTINGS = {
  webhook: z.object({
    [ENV.pools]: pools,
    [ENV.jobQueueUrl]: text,
    [ENV.webhookSecretArn]: text,
    [ENV.ledgerTable]: text,
    [ENV.githubOwner]: text,
    [ENV.runnerScope]: scope,
    [ENV.repositories]: repositories,
  }),
  launcher: z.object({ ...launchSettings, [ENV.ledgerTable]: text }),
  reconciler: z.object({
    ...launchSettings,
    [ENV.ledgerTable]: text,
    [ENV.jobQueueUrl]: text,
    [ENV.bootGraceMinutes]: positiveNumber(10),
  }),
  redeliver: z.object({
    ...githubAppSettings,
    [ENV.githubOwner]: text,
    [ENV.runnerScope]: scope,
    [ENV.repositories]: repositories,
    [ENV.webhookHookIds]: json(hookIds),
  }),
  reaper: z.object({
    ...githubAppSettings,
    [ENV.ledgerTable]: text,
    [ENV.runnerScope]: scope,
    [ENV.githubOwner]: text,
    [ENV.runnerParameterPrefix]: text,
    [ENV.stack]: text,
    [ENV.bootGraceMinutes]: positiveNumber(10),
    [ENV.maxJobHours]: positiveNumber(8),
  }),
  "runner-cache": z.object({
    [ENV.pools]: pools,
    [ENV.runnerCacheBucket]: text,
    [ENV.runnerVersion]: z._default(
      z.string().check(z.regex(/^(latest|\d+\.\d+\.\d+)$/, 'expected "latest" or a version like 2.330.0')),
      "latest",
    ),
    [ENV.runnerScope]: scope,
    [ENV.githubOwner]: z.optional(text),
    [ENV.githubApiUrl]: githubAppSettings[ENV.githubApiUrl],
    [ENV.appId]: z.optional(githubAppSettings[ENV.appId]),
    [ENV.appPrivateKeyParameter]: z.optional(text),
    /** Image Builder pipelines to rebuild when a new runner version is cached; none without `image: baked` pools. */
    [ENV.imagePipelineArns]: z._default(
      json(
        z.array(
          z
            .string()
            .check(
              z.regex(
                /^arn:[^:]+:imagebuilder:[^:]+:\d{12}:image-pipeline\/[a-z0-9-_]+$/,
                "expected an image pipeline ARN",
              ),
            ),
        ),
      ),
      [],
    ),
  }),
  "warm-pool": z.object({
    ...launchSettings,
    [ENV.warmPools]: json(z.array(warmPoolSchema).check(z.minLength(1))),
    [ENV.bootGraceMinutes]: positiveNumber(10),
  }),
} as const;

export type SettingsOf<F extends keyof typeof SETTINGS> = z.output<(typeof SETTINGS)[F]>;
/** What the program must set for a function: the schema's input, every value a string. */
export type EnvironmentOf<F extends keyof typeof SETTINGS> = { [K in keyof z.input<(typeof SETTINGS)[F]>]: string };

/** Settings of function `name` from `env`; throws one error that names every missing or malformed variable. */
export function readSettings<F extends keyof typeof SETTINGS>(
  name: F,
  env: Record<string, string | undefined> = process.env,
): SettingsOf<F> {
  const blankAsMissing = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ""));
  const parsed = SETTINGS[name].safeParse(blankAsMissing);
  if (parsed.success) return parsed.data as SettingsOf<F>;
  const problems = parsed.error.issues.map((issue) => {
    const [variable, ...rest] = issue.path.map(String);
    const where = rest.length ? `${variable} (${rest.join(".")})` : variable;
    return `${where}: ${issue.message}`;
  });
  throw new Error(`the ${name} function is misconfigured: ${problems.join("; ")}`);
}
