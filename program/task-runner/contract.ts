/**
 * What the task runner's state machine takes and returns. The definitions live in contract/task.ts, shared with
 * the workflow side (tools/run-task, actions/run-task): this module only re-exports them for the program.
 */
export {
  ECS_OVERRIDES_MAX_CHARACTERS,
  ecsContainerOverride,
  ENV_NAME_PATTERN,
  IMAGE_TAG_PATTERN,
  LOG_STREAM_PREFIX,
  overridePolicyProblems,
  TASK_RUN_ERRORS,
  type TaskOverridePolicy,
  type TaskRunInput,
  type TaskRunSummary,
} from "../../contract/task";
