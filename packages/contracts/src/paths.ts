/**
 * A relative path that stays inside its root: segments of letters, digits, `.`, `_`, `-` and spaces, separated by
 * single `/`, no `.` or `..` segment, no leading `/`. Used for artifact paths and files crossing the sandbox edge.
 */
const SEGMENT = /^[A-Za-z0-9_][A-Za-z0-9._ -]{0,127}$/;

export function normalizeRelativePath(path: string): string | null {
  const trimmed = path.startsWith('./') ? path.slice(2) : path;
  if (trimmed.length === 0 || trimmed.length > 512) return null;
  const segments = trimmed.split('/');
  for (const segment of segments) {
    if (!SEGMENT.test(segment) || segment.endsWith('.') || segment.endsWith(' ')) return null;
  }
  return segments.join('/');
}
