import { parsePatch, type StructuredPatchHunk, structuredPatch } from 'diff';

export interface DiffLine {
  kind: 'add' | 'del' | 'same';
  /** Line number in the parent's code (deleted and unchanged lines). */
  oldNo: number | null;
  /** Line number in this node's code (added and unchanged lines). */
  newNo: number | null;
  text: string;
}

export interface DiffHunk {
  header: string;
  lines: DiffLine[];
}

export interface CodeDiff {
  hunks: DiffHunk[];
  added: number;
  removed: number;
}

/** The change from a parent's code to its child's, as hunks with `context` unchanged lines around each change (jsdiff). */
export function codeDiff(parent: string, child: string, context = 3): CodeDiff {
  return fromHunks(structuredPatch('parent', 'node', parent, child, undefined, undefined, { context }).hunks);
}

/** A unified diff as stored (an evolve candidate's `patch.diff`), read into the same hunks; every file's hunks in order. */
export function parsedDiff(patchText: string): CodeDiff {
  return fromHunks(parsePatch(patchText).flatMap((file) => file.hunks));
}

function fromHunks(patchHunks: readonly StructuredPatchHunk[]): CodeDiff {
  let added = 0;
  let removed = 0;
  const hunks = patchHunks.map((hunk) => {
    let oldNo = hunk.oldStart;
    let newNo = hunk.newStart;
    const lines: DiffLine[] = [];
    for (const raw of hunk.lines) {
      const mark = raw[0];
      const text = raw.slice(1);
      if (mark === '\\') continue; // "\ No newline at end of file"
      if (mark === '+') {
        added++;
        lines.push({ kind: 'add', oldNo: null, newNo: newNo++, text });
      } else if (mark === '-') {
        removed++;
        lines.push({ kind: 'del', oldNo: oldNo++, newNo: null, text });
      } else {
        lines.push({ kind: 'same', oldNo: oldNo++, newNo: newNo++, text });
      }
    }
    return { header: `@@ -${hunk.oldStart},${hunk.oldLines} +${hunk.newStart},${hunk.newLines} @@`, lines };
  });
  return { hunks, added, removed };
}
