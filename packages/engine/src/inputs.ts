import { type INPUT_KINDS, INPUT_MOUNT } from '@autolab/contracts';
import type { RunContext } from './run-context.js';

/**
 * The files of one input as the worker found them: an upload, or the starting code of a built-in template (which
 * reaches the sandbox exactly like an uploaded `code` input). The content is only ever read inside a sandbox.
 */
export interface InputListing {
  /** The upload the files come from; null for a template's code. */
  uploadId: string | null;
  /** The built-in template whose baseline these files are. */
  template?: string;
  files: { path: string; size: number }[];
}

/** An input that is an upload: every kind but the starting code, which may also be a template's baseline. */
export type UploadListing = InputListing & { uploadId: string };
export type RunInputListings = Partial<Record<Exclude<(typeof INPUT_KINDS)[number], 'code'>, UploadListing>> & {
  code?: InputListing;
};
/** The inputs the preview describes (papers are read by their own step: papers.ts). */
const PREVIEWED_KINDS = ['data', 'code'] as const;

/** Characters of the inputs block that prompts carry (the preview is bounded before it is stored). */
export const MAX_PREVIEW_CHARS = 4000;
/** Files the preview describes one by one; the rest are counted by extension. */
const MAX_FILES_DESCRIBED = 40;
const PREVIEW_TIMEOUT_MS = 120_000;

/**
 * Runs inside the experiment sandbox (never on the host: these are untrusted files) and prints one JSON document
 * describing each input file: tables (shape, columns, dtypes, missing values, first rows), arrays (shape, dtype),
 * images (size), text (first lines). A file it cannot read is described as unreadable, with why.
 */
export const PREVIEW_SCRIPT = String.raw`
import json, os, sys, collections
ROOT = sys.argv[1]
MAX_FILES = int(sys.argv[2])
KINDS = sys.argv[3:]
TABLE = {'.csv': ',', '.tsv': '\t'}
TEXT = {'.txt', '.md', '.py', '.json', '.jsonl', '.yaml', '.yml', '.cfg', '.ini', '.tex', '.bib', '.r', '.sh'}
IMAGE = {'.png', '.jpg', '.jpeg', '.gif', '.bmp', '.tif', '.tiff', '.webp'}

def short(v, n=60):
    s = str(v)
    return s if len(s) <= n else s[:n] + '…'

def describe(path, rel):
    ext = os.path.splitext(rel)[1].lower()
    d = {'path': rel, 'size': os.path.getsize(path)}
    try:
        if ext in TABLE:
            import pandas as pd
            head = pd.read_csv(path, sep=TABLE[ext], nrows=20000, low_memory=False)
            with open(path, 'rb') as f:
                rows = max(0, sum(1 for _ in f) - 1)
            d.update(kind='table', rows=rows, columns=len(head.columns),
                     dtypes={short(c, 40): str(t) for c, t in list(head.dtypes.items())[:30]},
                     missing={short(c, 40): int(n) for c, n in head.isna().sum().items() if n > 0},
                     head=[[short(v, 20) for v in r] for r in head.head(3).values.tolist()])
        elif ext == '.npy':
            import numpy as np
            a = np.load(path, mmap_mode='r', allow_pickle=False)
            d.update(kind='array', shape=list(a.shape), dtype=str(a.dtype))
        elif ext == '.npz':
            import numpy as np
            with np.load(path, allow_pickle=False) as z:
                d.update(kind='arrays', arrays={k: {'shape': list(z[k].shape), 'dtype': str(z[k].dtype)} for k in list(z.files)[:20]})
        elif ext == '.parquet':
            d.update(kind='parquet', note='no Parquet reader in the sandbox image (pandas without pyarrow); convert to CSV')
        elif ext in IMAGE:
            from PIL import Image
            with Image.open(path) as im:
                d.update(kind='image', width=im.width, height=im.height, mode=im.mode)
        elif ext in TEXT or d['size'] < 4096:
            with open(path, 'r', encoding='utf-8', errors='replace') as f:
                lines = [short(f.readline().rstrip('\n'), 160) for _ in range(5)]
            d.update(kind='text', head=[l for l in lines if l])
        else:
            d.update(kind='binary')
    except Exception as e:
        d.update(kind='unreadable', error=short(f'{type(e).__name__}: {e}', 200))
    return d

out = {}
for name in KINDS:
    base = os.path.join(ROOT, name)
    files = []
    for dirpath, dirnames, filenames in os.walk(base):
        dirnames.sort()
        for fn in sorted(filenames):
            full = os.path.join(dirpath, fn)
            files.append((full, os.path.relpath(full, base)))
    described = [describe(f, r) for f, r in files[:MAX_FILES]]
    rest = collections.Counter(os.path.splitext(r)[1].lower() or '(none)' for _, r in files[MAX_FILES:])
    out[name] = {'files': described, 'more': dict(rest)}
print(json.dumps(out))
`;

/** One file as the preview describes it (the fields depend on `kind`). */
type FilePreview = { path: string; size: number; kind: string } & Record<string, unknown>;
type Preview = Record<string, { files: FilePreview[]; more: Record<string, number> }>;

const bytes = (n: number) =>
  n >= 1e9
    ? `${(n / 1e9).toFixed(1)} GB`
    : n >= 1e6
      ? `${(n / 1e6).toFixed(1)} MB`
      : n >= 1e3
        ? `${(n / 1e3).toFixed(1)} kB`
        : `${n} B`;

function fileLine(f: FilePreview): string {
  const where = `${f.path} (${bytes(f.size)})`;
  switch (f.kind) {
    case 'table': {
      const dtypes = Object.entries(f.dtypes as Record<string, string>)
        .map(([c, t]) => `${c}:${t}`)
        .join(', ');
      const missing = Object.entries(f.missing as Record<string, number>);
      const head = (f.head as unknown[][]).map((r) => r.join(', ')).join(' | ');
      return (
        `${where}: table, ${f.rows} rows × ${f.columns} columns [${dtypes}]` +
        (missing.length ? `; missing values: ${missing.map(([c, n]) => `${c}=${n}`).join(', ')}` : '') +
        (head ? `; first rows: ${head}` : '')
      );
    }
    case 'array':
      return `${where}: array ${JSON.stringify(f.shape)} ${f.dtype}`;
    case 'arrays':
      return `${where}: arrays ${Object.entries(f.arrays as Record<string, { shape: number[]; dtype: string }>)
        .map(([k, a]) => `${k} ${JSON.stringify(a.shape)} ${a.dtype}`)
        .join(', ')}`;
    case 'image':
      return `${where}: image ${f.width}×${f.height} ${f.mode}`;
    case 'text':
      return `${where}: text, begins: ${(f.head as string[]).join(' ⏎ ')}`;
    case 'parquet':
      return `${where}: Parquet — ${f.note}`;
    case 'unreadable':
      return `${where}: could not be read (${f.error})`;
    default:
      return `${where}: binary`;
  }
}

/** The bounded text the prompts carry: where each input is and what its files hold. */
export function previewText(preview: Preview): string {
  const blocks = Object.entries(preview).map(([name, { files, more }]) => {
    const extra = Object.entries(more);
    return [
      `${INPUT_MOUNT}/${name}/ (read-only):`,
      ...files.map((f) => `- ${fileLine(f)}`),
      ...(extra.length ? [`- and ${extra.map(([ext, n]) => `${n} more ${ext} file(s)`).join(', ')}`] : []),
    ].join('\n');
  });
  const text = blocks.join('\n\n');
  return text.length <= MAX_PREVIEW_CHARS ? text : `${text.slice(0, MAX_PREVIEW_CHARS - 40)}\n… (preview cut to fit)`;
}

/**
 * Runs one of the engine's fixed scripts over the inputs in a fresh sandbox of the built-in image (the inputs are
 * untrusted files: they are only ever opened in a sandbox) and returns the JSON it printed, or why it failed (output
 * that is not JSON too). An interruption is rethrown.
 */
export async function runInputScript(
  ctx: RunContext,
  command: string[],
  timeoutMs: number,
): Promise<{ ok: true; json: unknown } | { ok: false; failure: string }> {
  const sandbox = await ctx.ports.sandboxes.open('reader', ctx.signal);
  try {
    const result = await sandbox.exec(command, { timeoutMs, signal: ctx.signal });
    if (result.exitCode === 0) return { ok: true, json: JSON.parse(result.stdout.text) as unknown };
    return {
      ok: false,
      failure: result.timedOut
        ? `timed out after ${timeoutMs / 1000} s`
        : `exit ${result.exitCode}: ${result.stderr.text.slice(-300)}`,
    };
  } catch (err) {
    ctx.throwIfInterrupted();
    return { ok: false, failure: err instanceof Error ? err.message : String(err) };
  } finally {
    await sandbox.close().catch(() => undefined);
  }
}

/**
 * Before ideation: describes the run's inputs from inside a sandbox and keeps the bounded summary in the state (for
 * every prompt after it) and in `inputs.json`. A preview that fails is reported and replaced by the plain file list:
 * the run goes on either way.
 */
export async function previewInputs(ctx: RunContext): Promise<void> {
  const inputs = ctx.input.inputs;
  const kinds = PREVIEWED_KINDS.filter((k) => inputs[k] !== undefined);
  if (kinds.length === 0 || ctx.state.inputsPreview !== null) return;
  const run = await runInputScript(
    ctx,
    ['python3', '-c', PREVIEW_SCRIPT, INPUT_MOUNT, String(MAX_FILES_DESCRIBED), ...kinds],
    PREVIEW_TIMEOUT_MS,
  );
  let preview = run.ok ? (run.json as Preview) : null;
  const failure = run.ok ? null : run.failure;
  if (!preview) {
    // The listing the worker already has: names and sizes, no look inside.
    preview = Object.fromEntries(
      kinds.map((k) => [
        k,
        {
          files: inputs[k]!.files.slice(0, MAX_FILES_DESCRIBED).map((f) => ({ ...f, kind: 'unread' })),
          more: (inputs[k]!.files.length > MAX_FILES_DESCRIBED
            ? { files: inputs[k]!.files.length - MAX_FILES_DESCRIBED }
            : {}) as Record<string, number>,
        },
      ]),
    );
    await ctx.emit({
      type: 'warning',
      message: `The inputs could not be previewed (${failure}); the prompts list their files only.`,
      data: { code: 'input_preview_failed', detail: failure ?? '' },
    });
  }
  const text = previewText(preview!);
  ctx.state.inputsPreview = text;
  await ctx.sink.saveArtifact(
    'inputs.json',
    JSON.stringify(
      {
        inputs: Object.fromEntries(kinds.map((k) => [k, { ...source(inputs[k]!), mount: `${INPUT_MOUNT}/${k}/` }])),
        preview,
      },
      null,
      2,
    ),
  );
  await ctx.emit({
    type: 'inputs.described',
    message: `Inputs: ${kinds.map((k) => `${k} (${inputs[k]!.files.length} file(s))`).join(', ')} at ${INPUT_MOUNT}/.`,
    data: {
      inputs: kinds.map((k) => ({ kind: k, ...source(inputs[k]!), files: inputs[k]!.files.length })),
      preview: text,
    },
  });
  await ctx.checkpoint();
}

/** Where an input's files come from, as `inputs.json` and the `inputs.described` event say it. */
const source = (listing: InputListing) =>
  listing.template === undefined
    ? { uploadId: listing.uploadId }
    : { uploadId: listing.uploadId, template: listing.template };

/** The block prompts carry about the inputs ('' for a run without any). */
export function inputsBlock(preview: string | null): string {
  if (!preview) return '';
  return `\nThe user provided these files. Every experiment finds them read-only under ${INPUT_MOUNT}/ (copy what you need to change into the working directory); use them, do not invent substitute data:\n${preview}\n`;
}

/** The file run as the starting code's main program: the first of these at its top level, or its only `.py` file. */
const ENTRY_POINTS = ['main.py', 'run.py', 'train.py', 'experiment.py'];

/**
 * The baseline stage's first node for a run with starting code: the user's program run as it is, with no model call.
 * The node's program copies the code into the working directory (so that it can write files next to itself and
 * import its own modules) and runs the entry point as `__main__`. Null when no entry point can be told.
 */
export function startingCodeNode(code: InputListing): { plan: string; code: string; entry: string } | null {
  const topLevel = code.files.map((f) => f.path).filter((p) => !p.includes('/') && p.endsWith('.py'));
  const entry = ENTRY_POINTS.find((name) => topLevel.includes(name)) ?? (topLevel.length === 1 ? topLevel[0] : null);
  if (!entry) return null;
  const whose = code.template === undefined ? "The user's starting code" : `The ${code.template} template's baseline`;
  return {
    entry,
    plan: `${whose}, run as it is (${entry} from ${INPUT_MOUNT}/code/): the baseline to improve on.`,
    code: [
      `# ${whose} (${INPUT_MOUNT}/code/), run as it is: copied into the working directory, then`,
      `# ${entry} runs as the main program. What it records in results.json is the baseline the search improves on.`,
      'import runpy',
      'import shutil',
      'import sys',
      '',
      `shutil.copytree(${JSON.stringify(`${INPUT_MOUNT}/code`)}, ".", dirs_exist_ok=True)`,
      `sys.argv = [${JSON.stringify(entry)}]`,
      'sys.path.insert(0, ".")',
      `runpy.run_path(${JSON.stringify(entry)}, run_name="__main__")`,
      '',
    ].join('\n'),
  };
}
