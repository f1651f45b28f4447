/**
 * Offline preview: `npm run preview -- --stack <name> [--json] [--policy-config FILE] [--program FILE] [--stack-file FILE]`
 *
 * Shows what `pulumi up` would create for a stack and whether it passes the policy pack, with no AWS account and
 * no Pulumi CLI. This entry only checks the Node version (one line and exit 2 on an older Node) and then loads
 * the command (preview/cli.ts) with a dynamic import, so that nothing that could fail on an old Node runs first.
 */
import "./node-version";

void import("./preview/cli");
