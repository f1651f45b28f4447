/**
 * TaskRunner: the deployment path for one one-shot task (a database migration, for example).
 *
 *   GitHub Actions --OIDC--> deploy role --push--> ECR repository
 *                                        --StartExecution--> state machine --runTask.sync--> ECS Fargate task
 *
 * One instance per task in config (`cirunners:tasks`). See docs/task-runner.md for the flow, the config and the
 * costs, templates/run-task.yml for the application repository's workflow and tools/run-task for the CLI.
 */
export * from "./contract";
export * from "./github-variables";
export * from "./policies";
export * from "./state-machine";
export * from "./state-machine-input";
export * from "./target-ingress";
export * from "./task-definition";
export * from "./task-runner";
