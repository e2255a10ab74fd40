import { lstat, readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { TEMPLATE_NAME_PATTERN, type Template, TemplateManifest } from '@autolab/contracts';
import { parse } from 'yaml';

/** The templates shipped with the project: one directory each (README.md there says what goes in one). */
export const BUILTIN_TEMPLATES_DIR = fileURLToPath(new URL('../builtin', import.meta.url));

const MANIFEST = 'template.yaml';
const BASELINE = 'baseline.py';
const PLOT = 'plot.py';
/** A template's programs go into prompts (clipped) and into every experiment sandbox: they are small. */
const MAX_PROGRAM_BYTES = 64 * 1024;

/** A template that cannot be loaded: the message names the file and what is wrong with it. */
export class TemplateError extends Error {
  constructor(message: string) {
    super(message);
    this.name = this.constructor.name;
  }
}

/** One template as the worker needs it: what the API lists, and the directory its starting code is copied from. */
export interface TemplateSource {
  template: Template;
  dir: string;
  /** The files of the starting code (only `baseline.py`): what the sandbox finds at /workspace/input/code/. */
  codeFiles: { path: string; size: number }[];
}

/**
 * The built-in research templates, read and validated once (at start-up of the API and the worker): a broken
 * template stops the process with a clear message instead of failing the runs that name it.
 */
export class TemplateCatalog {
  private constructor(private readonly byName: ReadonlyMap<string, TemplateSource>) {}

  static async load(dir: string = BUILTIN_TEMPLATES_DIR): Promise<TemplateCatalog> {
    const byName = new Map<string, TemplateSource>();
    for (const name of (await readdir(dir)).sort()) {
      const templateDir = join(dir, name);
      if (!(await lstat(templateDir)).isDirectory()) continue;
      if (!TEMPLATE_NAME_PATTERN.test(name))
        throw new TemplateError(`${templateDir}: a template's directory name is lower-case words joined by -`);
      byName.set(name, await loadOne(name, templateDir));
    }
    return new TemplateCatalog(byName);
  }

  /** Every template, by name. */
  list(): Template[] {
    return [...this.byName.values()].map((source) => source.template);
  }

  get(name: string): TemplateSource | null {
    return this.byName.get(name) ?? null;
  }
}

async function loadOne(name: string, dir: string): Promise<TemplateSource> {
  const manifestPath = join(dir, MANIFEST);
  const text = await readProgram(manifestPath);
  let raw: unknown;
  try {
    raw = parse(text);
  } catch (err) {
    throw new TemplateError(`${manifestPath}: ${(err as Error).message}`);
  }
  const manifest = TemplateManifest.safeParse(raw);
  if (!manifest.success) {
    const issues = manifest.error.issues.map((i) => `${i.path.join('.') || '(top level)'}: ${i.message}`);
    throw new TemplateError(`${manifestPath}: ${issues.join('; ')}`);
  }
  const baselineCode = await readProgram(join(dir, BASELINE));
  const plotCode = await readProgram(join(dir, PLOT));
  return {
    template: { name, ...manifest.data, baselineCode, plotCode },
    dir,
    codeFiles: [{ path: BASELINE, size: Buffer.byteLength(baselineCode) }],
  };
}

async function readProgram(path: string): Promise<string> {
  const info = await lstat(path).catch(() => null);
  if (!info?.isFile()) throw new TemplateError(`${path} is missing (or not a regular file)`);
  if (info.size === 0 || info.size > MAX_PROGRAM_BYTES)
    throw new TemplateError(`${path} is ${info.size} bytes; a template file has 1 to ${MAX_PROGRAM_BYTES} bytes`);
  return readFile(path, 'utf8');
}
