/**
 * The stack configuration, validated once at start-up: schema.ts (+ primitives.ts, workloads.ts) defines every
 * key, errors.ts turns zod issues into messages naming the stack file's keys, load.ts parses and loads.
 */
export { ConfigError } from "./errors";
export { loadStackConfig, type ParseContext, parseStackConfig } from "./load";
export {
  FARGATE_MEMORY,
  INSTANCE_TYPE_PATTERN,
  instanceTypeArchitecture,
  isCidr,
  LOG_RETENTION_DAYS,
  PROJECT,
} from "./primitives";
export * from "./schema";
