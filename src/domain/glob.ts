// Glob filters of SPEC 2.2: `*` is any run of characters, `?` exactly one character,
// every other character is literal. Matching is case-insensitive and whole-value.
// A glob is compiled once into the parts a store needs to use an index: a literal
// prefix (for a range scan on the lower-cased column) and a LIKE pattern.

export interface CompiledGlob {
  /** Lower-cased glob text. */
  readonly lowered: string;
  /** Literal lower-cased text before the first wildcard. */
  readonly prefix: string;
  /** True when the glob has no wildcard at all: an exact (case-insensitive) match. */
  readonly exact: boolean;
  /** True when the glob is `prefix*` exactly: the prefix range alone decides. */
  readonly prefixOnly: boolean;
  /** SQL LIKE pattern over the lower-cased value, with `\` as the escape character. */
  readonly like: string;
  /** Tests a value in memory with the same semantics. */
  test(value: string): boolean;
}

export const LIKE_ESCAPE = '\\';

export function lowerForMatch(value: string): string {
  return value.toLowerCase();
}

export function compileGlob(glob: string): CompiledGlob {
  const lowered = lowerForMatch(glob);
  const chars = Array.from(lowered);
  let like = '';
  let regex = '';
  let prefix = '';
  let inPrefix = true;
  for (const ch of chars) {
    if (ch === '*') {
      inPrefix = false;
      like += '%';
      regex += '[\\s\\S]*';
    } else if (ch === '?') {
      inPrefix = false;
      like += '_';
      regex += '[\\s\\S]';
    } else {
      if (inPrefix) prefix += ch;
      like += ch === '%' || ch === '_' || ch === LIKE_ESCAPE ? LIKE_ESCAPE + ch : ch;
      // `-` is not escaped: outside a class it is literal, and `\-` is invalid with the u flag.
      regex += ch.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
    }
  }
  const exact = inPrefix;
  const rest = chars.slice(Array.from(prefix).length).join('');
  const prefixOnly = !exact && /^\*+$/.test(rest);
  const re = new RegExp(`^${regex}$`, 'u');
  return {
    lowered,
    prefix,
    exact,
    prefixOnly,
    like,
    test: (value: string) => re.test(lowerForMatch(value)),
  };
}

/**
 * The smallest string greater than every string that starts with `prefix`, in code
 * point (and so UTF-8 byte) order; undefined when there is none.
 */
export function prefixUpperBound(prefix: string): string | undefined {
  const points = Array.from(prefix);
  while (points.length > 0) {
    const last = points.pop()!.codePointAt(0)!;
    let next = last + 1;
    if (next >= 0xd800 && next <= 0xdfff) next = 0xe000;
    if (next <= 0x10ffff) return points.join('') + String.fromCodePoint(next);
  }
  return undefined;
}
