/**
 * Terminal formatting for the preview report: colour only on a terminal that wants it, lines fitted to its width,
 * long messages wrapped. Pure functions: the CLI passes what it knows about stdout and the environment.
 */

export type Color = "red" | "yellow" | "green" | "dim" | "bold" | "cyan";

/** One piece of a line, optionally coloured. */
export type Segment = readonly [text: string, color?: Color];

export interface Style {
  /** Emit ANSI colours. */
  color: boolean;
  /** Columns a line may take. */
  width: number;
}

/** The width assumed when stdout is not a terminal (a pipe, a file, CI logs). */
export const DEFAULT_WIDTH = 120;
/** Below this, fitting would cut everything: narrower terminals get lines that wrap. */
const MIN_WIDTH = 40;

const CODES: Record<Color, [number, number]> = {
  red: [31, 39],
  yellow: [33, 39],
  green: [32, 39],
  cyan: [36, 39],
  dim: [2, 22],
  bold: [1, 22],
};

/**
 * The style for a stream: colour on a TTY unless NO_COLOR is set to anything non-empty (no-color.org) or TERM is
 * "dumb"; its width when it is a terminal, else DEFAULT_WIDTH.
 */
export function styleFor(stream: { isTTY?: boolean; columns?: number }, env: NodeJS.ProcessEnv): Style {
  const tty = stream.isTTY === true;
  const color = tty && !env.NO_COLOR && env.TERM !== "dumb";
  const columns = tty && stream.columns ? stream.columns : DEFAULT_WIDTH;
  return { color, width: Math.max(MIN_WIDTH, columns) };
}

/** Visible length: code points, so that the tree's box-drawing characters count as one column each. */
export function visibleLength(text: string): number {
  return [...text].length;
}

/** Joins segments into one line no wider than the style's width (cut with "…"), coloured if the style says so. */
export function renderLine(segments: readonly Segment[], style: Style): string {
  let room = style.width;
  let out = "";
  for (const [text, color] of segments) {
    if (room <= 0) break;
    const chars = [...text];
    let piece = text;
    if (chars.length > room) piece = `${chars.slice(0, room - 1).join("")}…`;
    room -= visibleLength(piece);
    out += style.color && color ? `\u001b[${CODES[color][0]}m${piece}\u001b[${CODES[color][1]}m` : piece;
  }
  return out.replace(/\s+$/, "");
}

/**
 * Word-wraps `text` to `width` columns, each line after `indent`; a word longer than a line (an ARN, a URL) is
 * broken, not left to overflow. Existing line breaks are kept.
 */
export function wrap(text: string, width: number, indent = ""): string[] {
  const room = Math.max(10, width - visibleLength(indent));
  const lines: string[] = [];
  for (const paragraph of text.split("\n")) {
    let current = "";
    for (let word of paragraph.split(/\s+/).filter(Boolean)) {
      while (visibleLength(word) > room) {
        if (current) lines.push(current);
        current = "";
        lines.push([...word].slice(0, room).join(""));
        word = [...word].slice(room).join("");
      }
      if (!current) current = word;
      else if (visibleLength(current) + 1 + visibleLength(word) <= room) current += ` ${word}`;
      else {
        lines.push(current);
        current = word;
      }
    }
    lines.push(current);
  }
  return lines.map((line) => `${indent}${line}`.replace(/\s+$/, ""));
}

/**
 * A type token as `pulumi preview` shows it: `aws:ec2/vpcEndpoint:VpcEndpoint` → `aws:ec2:VpcEndpoint` (the
 * module's last part repeats the type's name), which keeps the tree narrow without losing information.
 */
export function displayType(type: string): string {
  const match = /^([^:]+):([^:/]+)\/([^:]+):([^:]+)$/.exec(type);
  if (!match) return type;
  const [, pkg, module, file, name] = match;
  return file.toLowerCase() === name.toLowerCase() ? `${pkg}:${module}:${name}` : type;
}
