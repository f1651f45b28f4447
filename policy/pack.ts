// Pack identity shared by index.ts (the real pack) and evaluate.ts (the offline evaluator).
import type { EnforcementLevel } from "@pulumi/policy";

export const PACK_NAME = "cirunners-aws-baseline";

/** The pack-wide default; every policy also declares its own level, which takes precedence. */
export const PACK_ENFORCEMENT_LEVEL: EnforcementLevel = "mandatory";

export const PACK_VERSION: string = (require("./package.json") as { version: string }).version;
