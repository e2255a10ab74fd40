import type { ReactNode } from 'react';

/** A labelled form control with its hint and the API's error for it. */
export function Field({
  label,
  hint,
  error,
  children,
  wide = false,
}: {
  label: string;
  hint?: string;
  error?: string | undefined;
  children: ReactNode;
  wide?: boolean;
}) {
  return (
    // biome-ignore lint/a11y/noLabelWithoutControl: the control is passed as children
    <label className={`field ${wide ? 'field-wide' : ''} ${error ? 'field-invalid' : ''}`}>
      <span className="field-label">{label}</span>
      {children}
      {error ? <span className="field-error">{error}</span> : hint ? <span className="field-hint">{hint}</span> : null}
    </label>
  );
}
