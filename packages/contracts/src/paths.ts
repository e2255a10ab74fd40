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

/**
 * What a file's name says, in words: `nodes/n004/files/loss_curves.png` → `loss curves` (the last segment without its
 * extension, `_` and `-` read as spaces). Figures an experiment saved by itself have no caption but this, in the
 * paper and on the dashboard alike.
 */
export function fileNameAsWords(path: string): string {
  const file = path.split('/').at(-1) ?? path;
  return file
    .replace(/\.[a-z0-9]+$/i, '')
    .replace(/[_-]+/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
}
