/** Preformatted text with line numbers (code) or without (output); `wrap` wraps long lines (messages, errors). */
export function CodeBlock({
  text,
  numbered = false,
  wrap = false,
  testId,
}: {
  text: string;
  numbered?: boolean;
  wrap?: boolean;
  testId?: string;
}) {
  if (!numbered) {
    return (
      <pre className={wrap ? 'code code-wrap' : 'code'} data-testid={testId}>
        {text}
      </pre>
    );
  }
  const lines = text.replace(/\n$/, '').split('\n');
  const width = String(lines.length).length;
  return (
    <pre className="code numbered" data-testid={testId}>
      {lines.map((line, i) => (
        // biome-ignore lint/suspicious/noArrayIndexKey: lines of a fixed text
        <span key={i} className="code-line">
          <span className="ln" aria-hidden="true">
            {String(i + 1).padStart(width, ' ')}
          </span>
          {line || ' '}
          {'\n'}
        </span>
      ))}
    </pre>
  );
}
