/**
 * Text rendering of an offline preview, in the shape of `pulumi preview`'s output, fitted to the terminal
 * (format.ts). Pure functions: the style comes from the caller.
 */
import type { PreviewResource, PreviewResult, PreviewViolation } from "./engine";
import { DEFAULT_WIDTH, displayType, renderLine, type Segment, type Style, visibleLength, wrap } from "./format";

const STACK_TYPE = "pulumi:pulumi:Stack";
const PLAIN: Style = { color: false, width: DEFAULT_WIDTH };

interface Node {
  resource: { type: string; name: string };
  children: Node[];
}

/** Builds the component → children tree; resources without a parent hang under the stack. */
export function buildTree(stackName: string, resources: PreviewResource[]): Node {
  const root: Node = { resource: { type: STACK_TYPE, name: stackName }, children: [] };
  const byUrn = new Map<string, Node>();
  for (const r of resources) byUrn.set(r.urn, { resource: r, children: [] });
  for (const r of resources) {
    const node = byUrn.get(r.urn)!;
    const parent = r.parent ? byUrn.get(r.parent) : undefined;
    (parent ?? root).children.push(node);
  }
  return root;
}

/**
 * The tree, one resource a line: `+`, the branch, the type and the name in a column. The name column starts
 * after the widest type unless that would leave less than a third of the line for names; wider rows then put
 * the name one space after the type, and anything still too wide is cut with "…".
 */
export function renderTree(root: Node, style: Style = PLAIN): string[] {
  const rows: Array<[string, string, string]> = [];
  const walk = (node: Node, prefix: string, isLast: boolean, depth: number) => {
    const branch = depth === 0 ? "" : `${prefix}${isLast ? "└─ " : "├─ "}`;
    rows.push([branch, displayType(node.resource.type), node.resource.name]);
    const childPrefix = depth === 0 ? "" : `${prefix}${isLast ? "   " : "│  "}`;
    node.children.forEach((child, i) => {
      walk(child, childPrefix, i === node.children.length - 1, depth + 1);
    });
  };
  walk(root, "", true, 0);
  const widest = Math.max(...rows.map(([b, t]) => visibleLength(b + t))) + 2;
  const column = Math.min(widest, Math.floor(((style.width - 5) * 2) / 3));
  const header = renderLine([[` ${"    Type".padEnd(column + 4)}Name`, "bold"]], style);
  return [
    header,
    ...rows.map(([branch, type, name]) => {
      const used = visibleLength(branch + type);
      const gap = used < column ? " ".repeat(column - used) : " ";
      return renderLine([[" +   ", "green"], [branch, "dim"], [type], [gap], [name, "cyan"]], style);
    }),
  ];
}

/** Resources per type, most first (components included). */
export function countByType(resources: PreviewResource[]): Array<[string, number]> {
  const counts = new Map<string, number>();
  for (const r of resources) counts.set(r.type, (counts.get(r.type) ?? 0) + 1);
  return [...counts.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
}

export function hasMandatoryViolation(violations: PreviewViolation[]): boolean {
  return violations.some((v) => v.enforcementLevel === "mandatory");
}

/** One violation: the policy, the resource, and the message wrapped under them. */
export function renderViolation(v: PreviewViolation, style: Style = PLAIN): string[] {
  const mandatory = v.enforcementLevel === "mandatory";
  const mark: Segment = mandatory ? ["    ❌ ", "red"] : ["    ⚠️  ", "yellow"];
  return [
    renderLine([mark, [v.policy, "bold"], [` (${v.enforcementLevel})`, mandatory ? "red" : "yellow"]], style),
    renderLine([["       "], [displayType(v.type), "dim"], [" "], [v.name, "cyan"]], style),
    ...wrap(v.message, style.width, "       "),
  ];
}

/** The stack outputs, `name: value` with values as JSON; a long value is cut to the line. */
export function renderOutputs(outputs: Record<string, unknown>, style: Style = PLAIN): string[] {
  const names = Object.keys(outputs).sort();
  if (names.length === 0) return [];
  const width = Math.max(...names.map((n) => n.length));
  return [
    renderLine([["Outputs:", "bold"]], style),
    ...names.map((name) => {
      const value = outputs[name] === undefined ? "[unknown until deployed]" : JSON.stringify(outputs[name]);
      return renderLine([[`    ${name.padEnd(width)}  `], [value, "cyan"]], style);
    }),
    "",
  ];
}

export function renderReport(result: PreviewResult, style: Style = PLAIN): string {
  const lines: string[] = [];
  lines.push(
    ...wrap(
      `Previewing update (${result.stack}) offline: the program ran under Pulumi mocks; nothing was deployed.`,
      style.width,
    ),
    "",
  );
  lines.push(...renderTree(buildTree(`${result.project}-${result.stack}`, result.resources), style), "");
  lines.push(renderLine([["Resources by type:", "bold"]], style));
  for (const [type, count] of countByType(result.resources))
    lines.push(renderLine([[`    ${String(count).padStart(4)}  `], [displayType(type)]], style));
  lines.push("", renderLine([["Resources:", "bold"]], style));
  lines.push(
    renderLine([["    + ", "green"], [`${result.resources.length + 1} to create (including the stack)`]], style),
    "",
  );
  lines.push(...renderOutputs(result.outputs ?? {}, style));
  const mandatory = result.violations.filter((v) => v.enforcementLevel === "mandatory");
  const advisory = result.violations.filter((v) => v.enforcementLevel !== "mandatory");
  lines.push(
    renderLine([[`Policies: ${mandatory.length} mandatory, ${advisory.length} advisory violation(s)`, "bold"]], style),
  );
  for (const v of [...mandatory, ...advisory]) lines.push(...renderViolation(v, style));
  if (result.violations.length === 0)
    lines.push(renderLine([["    ✅ the program passes the policy pack", "green"]], style));
  return lines.join("\n");
}
