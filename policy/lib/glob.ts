// IAM-style wildcard matching: `*` matches any run of characters (including none), `?` exactly one.
// These are the only wildcards IAM supports in Action, Resource and String*Like condition values.

const regexCache = new Map<string, RegExp>();

function escapeRegExp(ch: string): string {
  return ch.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
}

/** Compiles (and caches) a wildcard pattern into an anchored regular expression. */
export function wildcardRegExp(pattern: string, caseInsensitive: boolean): RegExp {
  const key = (caseInsensitive ? "i:" : "s:") + pattern;
  let re = regexCache.get(key);
  if (!re) {
    let source = "^";
    for (const ch of pattern) {
      source += ch === "*" ? "[\\s\\S]*" : ch === "?" ? "[\\s\\S]" : escapeRegExp(ch);
    }
    source += "$";
    re = new RegExp(source, caseInsensitive ? "i" : "");
    if (regexCache.size > 10_000) {
      regexCache.clear();
    }
    regexCache.set(key, re);
  }
  return re;
}

/** True when the concrete `value` matches the wildcard `pattern`. */
export function wildcardMatch(pattern: string, value: string, caseInsensitive = true): boolean {
  if (!pattern.includes("*") && !pattern.includes("?")) {
    return caseInsensitive ? pattern.toLowerCase() === value.toLowerCase() : pattern === value;
  }
  return wildcardRegExp(pattern, caseInsensitive).test(value);
}

/** True when the string contains an IAM wildcard. */
export function hasWildcard(value: string): boolean {
  return value.includes("*") || value.includes("?");
}

/**
 * Pattern containment: true only if every string matched by `inner` is also matched by `outer` (both are
 * wildcard patterns). Sound but not complete: `outer`'s `*` may absorb any part of `inner` (wildcards
 * included), `outer`'s `?` only a single literal character or `?`, and a literal only the same literal.
 * Used to decide whether a statement's action pattern (e.g. `ec2:DescribeInst*`) stays inside an allow-list
 * pattern (e.g. `ec2:Describe*`).
 */
export function wildcardCovers(outer: string, inner: string, caseInsensitive = true): boolean {
  const o = caseInsensitive ? outer.toLowerCase() : outer;
  const i = caseInsensitive ? inner.toLowerCase() : inner;
  const memo = new Map<number, boolean>();
  const width = i.length + 1;
  const covers = (a: number, b: number): boolean => {
    const key = a * width + b;
    const cached = memo.get(key);
    if (cached !== undefined) {
      return cached;
    }
    let result: boolean;
    if (a === o.length) {
      result = b === i.length;
    } else if (o[a] === "*") {
      result = covers(a + 1, b) || (b < i.length && covers(a, b + 1));
    } else if (b === i.length) {
      result = false;
    } else if (o[a] === "?") {
      result = i[b] !== "*" && covers(a + 1, b + 1);
    } else {
      result = i[b] === o[a] && covers(a + 1, b + 1);
    }
    memo.set(key, result);
    return result;
  };
  return covers(0, 0);
}
