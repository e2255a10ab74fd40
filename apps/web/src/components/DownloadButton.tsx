/** A button that saves one file; it says so while it downloads. */
export function DownloadButton({
  id,
  label,
  busy,
  disabled,
  small = false,
  onClick,
}: {
  id: string;
  label: string;
  /** The id of the file being downloaded, if any. */
  busy: string | null;
  disabled: boolean;
  small?: boolean;
  onClick: () => void;
}) {
  return (
    <button
      type="button"
      className={`btn download${small ? ' btn-small' : ''}`}
      data-download={id}
      disabled={disabled}
      onClick={onClick}
    >
      <span aria-hidden="true">↓</span> {busy === id ? 'Downloading…' : label}
    </button>
  );
}
