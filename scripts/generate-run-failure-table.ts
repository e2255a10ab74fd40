/**
 * Writes the table of run failure codes in docs/api.md (between its `run-failures` markers) from the catalog in
 * packages/contracts/src/run-failures.ts. Run by `npm run generate`; a test fails when the committed table is stale.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { RUN_FAILURES } from '@autolab/contracts';

export const RUN_FAILURE_DOC = fileURLToPath(new URL('../docs/api.md', import.meta.url));
const START =
  '<!-- run-failures:start (generated from packages/contracts/src/run-failures.ts by `npm run generate`) -->';
const END = '<!-- run-failures:end -->';

export function runFailureTable(): string {
  const rows = Object.entries(RUN_FAILURES).map(([code, meaning]) => [`\`${code}\``, meaning]);
  const header = ['`error.code`', 'meaning'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

/** The document with its table replaced by the current one. */
export function withRunFailureTable(markdown: string): string {
  const start = markdown.indexOf(START);
  const end = markdown.indexOf(END);
  if (start < 0 || end < start) throw new Error(`docs/api.md has no ${START} … ${END} block`);
  return `${markdown.slice(0, start + START.length)}\n${runFailureTable()}\n${markdown.slice(end)}`;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  await writeFile(RUN_FAILURE_DOC, withRunFailureTable(await readFile(RUN_FAILURE_DOC, 'utf8')));
  console.log(`wrote the run failure table in ${RUN_FAILURE_DOC}`);
}
