import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { ArchiveSubset, Download } from '@autolab/api-client';
import type { RunRecord } from '@autolab/contracts';
import type { CliContext } from '../context.js';
import { inspectArchive, type SavedFile, saveDownload } from '../download-file.js';
import { ApiError, InterruptedError } from '../errors.js';
import { ExitCode } from '../exit-codes.js';
import { formatBytes, oneLine } from '../human-format.js';
import { ProgressLine } from '../terminal/progress-line.js';

export const DOWNLOAD_TARGETS = ['paper', 'code', 'all'] as const;
export type DownloadTarget = (typeof DOWNLOAD_TARGETS)[number];

/** The paper's files as individual artifacts, and the names they get in the output directory. */
const PAPER_FILES: readonly { artifact: string; file: string }[] = [
  { artifact: 'paper/paper.pdf', file: 'paper.pdf' },
  { artifact: 'paper/paper.tex', file: 'paper.tex' },
];

/** An evolve run has a report instead of a paper (docs/evolve.md). */
const REPORT_FILES: readonly { artifact: string; file: string }[] = [
  { artifact: 'evolve/report.md', file: 'report.md' },
  { artifact: 'evolve/best/diff-from-initial.patch', file: 'best-diff-from-initial.patch' },
];

export const defaultOutputDir = (runId: string): string => join('autolab-output', runId);

/** The archives a target needs: `code` the code subset, `all` that and the whole run. */
function archivesFor(target: DownloadTarget, runId: string): { subset: ArchiveSubset; file: string }[] {
  const code = { subset: 'code' as const, file: `${runId}-code.tar.gz` };
  if (target === 'code') return [code];
  if (target === 'all') return [code, { subset: 'all', file: `${runId}.tar.gz` }];
  return [];
}

/** A progress line on stderr when it is a terminal that can redraw a line; nothing otherwise (pipes, logs). */
export function progressLine(ctx: CliContext): ProgressLine | null {
  const tty = ctx.io.stderrTty;
  if (!tty || ctx.display.dumb) return null;
  return new ProgressLine({
    write: (text) => ctx.io.err(text),
    columns: () => tty.columns(),
    color: ctx.display.color,
    frameIntervalMs: ctx.live.frameIntervalMs,
    now: ctx.live.now,
  });
}

/**
 * Downloads the paper (PDF and LaTeX) and/or the code and whole-run archives into `out`. Everything available is
 * written even when the paper is missing; a missing paper then makes the exit code 4. On a terminal each file shows
 * a progress line while it arrives; Ctrl-C stops the download and removes the partial file.
 */
export async function downloadCommand(
  ctx: CliContext,
  runId: string,
  target: DownloadTarget,
  options: { out?: string },
): Promise<ExitCode> {
  // Asking for the record first turns an unknown id into one clear "not found" instead of three.
  const run = await ctx.client.getRun(runId);
  const dir = options.out ?? defaultOutputDir(runId);
  await mkdir(dir, { recursive: true });
  const report = (saved: SavedFile, extra = '') =>
    ctx.io.out(`wrote ${saved.path} (${formatBytes(saved.bytes)}${extra})\n`);
  const progress = progressLine(ctx);
  const interrupt = new AbortController();
  const removeHandler = ctx.io.onInterrupt?.(() => interrupt.abort());
  const { signal } = interrupt;
  const save = async (download: Download, file: string, check?: (temp: string) => Promise<void>) => {
    progress?.start(file, download.size);
    try {
      return await saveDownload(download, join(dir, file), {
        check,
        signal,
        onProgress: (bytes) => progress?.update(bytes),
      });
    } finally {
      progress?.clear();
    }
  };

  const missing: ApiError[] = [];
  const missingPaths: string[] = [];
  try {
    if (target !== 'code') {
      for (const { artifact, file } of run.mode === 'evolve' ? REPORT_FILES : PAPER_FILES) {
        try {
          report(await save(await ctx.client.openArtifact(runId, artifact, signal), file));
        } catch (error) {
          if (!(error instanceof ApiError) || error.status !== 404) throw error;
          missing.push(error);
          missingPaths.push(artifact);
        }
      }
    }
    for (const { subset, file } of archivesFor(target, runId)) {
      let files = 0;
      const saved = await save(await ctx.client.openArchive(runId, subset, signal), file, async (temp) => {
        files = (await inspectArchive(temp, file)).files;
      });
      report(saved, `, ${files} files`);
    }
  } catch (error) {
    if (signal.aborted) throw new InterruptedError('interrupted; the file being downloaded was not kept');
    throw error;
  } finally {
    removeHandler?.();
  }

  if (missing.length > 0) {
    const code = missing[0]?.code ?? 'not_found';
    ctx.io.err(
      `autolab: ${code}: no ${run.mode === 'evolve' ? 'report' : 'paper'} for ${runId}: ${missingPaths.join(' and ')} not found; ${whyNoPaper(run)}\n`,
    );
    return ExitCode.Rejected;
  }
  return ExitCode.Ok;
}

function whyNoPaper(run: RunRecord): string {
  switch (run.status) {
    case 'queued':
    case 'running':
      return `the run is still ${run.status}${run.stage ? ` (stage ${run.stage})` : ''}; the paper comes at the end`;
    case 'failed':
      return `the run failed${run.error ? ` (${run.error.code}: ${oneLine(run.error.message)})` : ''}`;
    case 'cancelled':
      return 'the run was cancelled before its writeup';
    case 'succeeded':
      return 'the run finished without producing it';
  }
}
