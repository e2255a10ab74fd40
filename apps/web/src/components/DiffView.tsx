import type { CodeDiff } from '../lib/code-diff.js';

/** A unified diff with both sides' line numbers, the change counted against `against` (a node's or candidate's id). */
export function DiffView({ diff, against, testId }: { diff: CodeDiff; against: string; testId?: string }) {
  return (
    <div data-testid={testId}>
      <p className="small muted diff-summary">
        Against {against}: <span className="diff-add-count">+{diff.added}</span>{' '}
        <span className="diff-del-count">−{diff.removed}</span> lines
      </p>
      <pre className="code diff">
        {diff.hunks.map((hunk) => (
          <span key={hunk.header} className="diff-hunk">
            <span className="diff-line diff-header">{hunk.header}</span>
            {hunk.lines.map((line) => (
              <span key={`${line.oldNo}:${line.newNo}`} className={`diff-line diff-${line.kind}`}>
                <span className="ln" aria-hidden="true">
                  {String(line.oldNo ?? '').padStart(4, ' ')} {String(line.newNo ?? '').padStart(4, ' ')}
                </span>
                <span className="diff-mark" aria-hidden="true">
                  {line.kind === 'add' ? '+' : line.kind === 'del' ? '-' : ' '}
                </span>
                {line.text || ' '}
              </span>
            ))}
          </span>
        ))}
      </pre>
    </div>
  );
}
