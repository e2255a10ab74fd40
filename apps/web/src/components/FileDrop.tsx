import { type DragEvent, useRef, useState } from 'react';

/** A file to upload with the relative path it keeps in the upload (a directory's structure survives). */
export interface PickedFile {
  path: string;
  file: File;
}

/** Everything under a dropped directory entry (the File System Entry API: Chromium, Firefox, Safari). */
async function filesOf(entry: FileSystemEntry, prefix = ''): Promise<PickedFile[]> {
  if (entry.isFile) {
    const file = await new Promise<File>((resolve, reject) => (entry as FileSystemFileEntry).file(resolve, reject));
    return [{ path: `${prefix}${entry.name}`, file }];
  }
  const reader = (entry as FileSystemDirectoryEntry).createReader();
  const children: FileSystemEntry[] = [];
  // readEntries hands out a directory in batches; an empty batch ends it.
  for (;;) {
    const batch = await new Promise<FileSystemEntry[]>((resolve, reject) => reader.readEntries(resolve, reject));
    if (batch.length === 0) break;
    children.push(...batch);
  }
  const nested = await Promise.all(children.map((child) => filesOf(child, `${prefix}${entry.name}/`)));
  return nested.flat();
}

const size = (n: number) =>
  n >= 1e6 ? `${(n / 1e6).toFixed(1)} MB` : n >= 1e3 ? `${(n / 1e3).toFixed(1)} kB` : `${n} B`;

/**
 * Files for one input of a run (data or starting code), by drag and drop (files or whole directories) or a file
 * picker. The files are uploaded when the run is submitted.
 */
export function FileDrop({
  name,
  label,
  hint,
  files,
  onChange,
  error,
}: {
  name: string;
  label: string;
  hint: string;
  files: PickedFile[];
  onChange: (files: PickedFile[]) => void;
  error?: string | undefined;
}) {
  const input = useRef<HTMLInputElement>(null);
  const [over, setOver] = useState(false);
  const drop = async (event: DragEvent) => {
    event.preventDefault();
    setOver(false);
    const entries = [...event.dataTransfer.items].map((item) => item.webkitGetAsEntry()).filter((e) => e !== null);
    const picked = entries.length
      ? (await Promise.all(entries.map((entry) => filesOf(entry)))).flat()
      : [...event.dataTransfer.files].map((file) => ({ path: file.name, file }));
    // A single dropped directory: its contents, not the directory's own name, are the upload's top level.
    const top = new Set(picked.map((p) => p.path.split('/')[0]));
    const [only] = [...top];
    const strip = top.size === 1 && picked.every((p) => p.path.includes('/'));
    onChange(strip ? picked.map((p) => ({ ...p, path: p.path.slice((only?.length ?? 0) + 1) })) : picked);
  };
  const total = files.reduce((sum, f) => sum + f.file.size, 0);
  return (
    <div className={`field field-wide ${error ? 'field-invalid' : ''}`}>
      <span className="field-label">{label}</span>
      {/* biome-ignore lint/a11y/useSemanticElements: a drop zone is not a form control; the button inside picks files */}
      <div
        role="group"
        aria-label={label}
        className={`file-drop ${over ? 'file-drop-over' : ''}`}
        onDragOver={(e) => {
          e.preventDefault();
          setOver(true);
        }}
        onDragLeave={() => setOver(false)}
        onDrop={(e) => void drop(e)}
      >
        {files.length === 0 ? (
          <span>Drop files or a folder here, or </span>
        ) : (
          <span>
            {files.length} file(s), {size(total)}:{' '}
            {files
              .slice(0, 3)
              .map((f) => f.path)
              .join(', ')}
            {files.length > 3 ? ', …' : ''}{' '}
          </span>
        )}
        <button type="button" className="btn btn-ghost" onClick={() => input.current?.click()}>
          choose files
        </button>
        {files.length > 0 && (
          <button type="button" className="btn btn-ghost" onClick={() => onChange([])}>
            clear
          </button>
        )}
        <input
          ref={input}
          name={name}
          type="file"
          multiple
          hidden
          onChange={(e) => onChange([...(e.target.files ?? [])].map((file) => ({ path: file.name, file })))}
        />
      </div>
      {error ? <span className="field-error">{error}</span> : <span className="field-hint">{hint}</span>}
    </div>
  );
}
