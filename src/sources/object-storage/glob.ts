/**
 * The key globs of ClickPipes (`?`, `*`, `**`) and beyond them `{a,b}` alternatives and
 * `{1..9}` ranges, as ClickHouse reads them: `*` and `?` stay inside one folder, `**` crosses
 * folders. The listing prefix is the glob's literal head, so a store lists only what can match.
 */
import picomatch from "picomatch";

export interface KeyGlob {
  /** The literal start of every matching key: what the store lists. */
  readonly prefix: string;
  matches(key: string): boolean;
}

const SPECIAL = /[*?{[]/;

export function compileGlob(pattern: string): KeyGlob {
  const first = pattern.search(SPECIAL);
  if (first < 0) return { prefix: pattern, matches: (key) => key === pattern };
  const isMatch = picomatch(pattern, { dot: true });
  return { prefix: pattern.slice(0, first), matches: (key) => isMatch(key) };
}
