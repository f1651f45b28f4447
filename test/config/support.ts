/**
 * Shared by the config tests: one small valid stack configuration (raw, as a stack file gives it) and one way to
 * run the parser on it and read back the problems it reports.
 */
import * as assert from "node:assert/strict";
import { ConfigError, type ParseContext, parseStackConfig } from "../../program/config";

export const STACK_REGION = "eu-west-1";

/** A minimal valid configuration: one x64 pool. A fresh object per call, so tests may change it. */
export function validConfig(): any {
  return {
    github: { owner: "acme", appId: 42, appPrivateKeyParameter: "/cirunners/test/app-key" },
    runners: {
      pools: [
        {
          name: "linux-x64",
          labels: ["self-hosted", "linux", "x64"],
          instanceTypes: ["m7i.large"],
          architecture: "x64",
          maxRunners: 5,
        },
      ],
    },
  };
}

export interface Where {
  stack?: string;
  /** `null`: the stack sets no `aws:region`. */
  region?: string | null;
  context?: ParseContext;
}

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/**
 * The problems the parser reports for `config` ([] when it parses). Every rejection must be a ConfigError whose
 * message names the stack file on each line, so each test also checks the message's shape.
 */
export function problemsOf(config: unknown, { stack = "test", region = STACK_REGION, context }: Where = {}): string[] {
  try {
    parseStackConfig(config as Record<string, unknown>, stack, region ?? undefined, context);
  } catch (error) {
    assert.ok(error instanceof ConfigError, `expected a ConfigError, got ${String(error)}`);
    const file = escapeRegExp(`Pulumi.${stack}.yaml`);
    assert.match(
      error.message,
      new RegExp(`^invalid stack configuration in ${file} \\(\\d+ problems?\\):\\n {2}- ${file}: `),
    );
    return error.problems;
  }
  return [];
}

/** Asserts that one of the problems matches `pattern`, listing them all when none does. */
export function assertProblem(list: string[], pattern: RegExp): void {
  assert.ok(
    list.some((p) => pattern.test(p)),
    `expected a problem matching ${pattern}, got:\n${list.join("\n")}`,
  );
}
