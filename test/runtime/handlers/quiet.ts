// Imported first by the launcher tests: Powertools reads these when the handler module creates its Logger and
// Metrics, so they must be set before that module loads. Metrics stay enabled where a test captures them.
process.env.POWERTOOLS_LOG_LEVEL = "SILENT";
process.env.POWERTOOLS_METRICS_NAMESPACE ??= "cirunners";
