import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RunRecord } from '@autolab/contracts';
import { type FakeLiteratureServer, startFakeLiteratureServer } from '@autolab/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, readSse, type Stack, startStack, uploadFiles, waitForStatus } from '../stack.js';

/**
 * A run whose goal, idea, figure caption, model-written prose and the user's .bib hold text beyond ASCII (scenario
 * `unicode`), through the real stack: the paper compiles with pdflatex in the LaTeX image and its PDF holds the
 * accented Latin, the Greek and the typographic punctuation; the emoji and the CJK, which the template's fonts
 * cannot set, are dropped and a warning names them.
 */
const GOAL = 'Does α-scaling 🚀 help naïve models — “café” señor Müller’s 日本語 widgets…?';
const BIB = `@article{mueller2021,
  title = {Über α-scaling — a “naïve” study 🚀},
  author = {Müller, Jörg and Núñez, José and 王, 小明 and Παπαδόπουλος, Γιώργος},
  journal = {Journal of Widgets},
  year = 2021,
}
`;
let stack: Stack;
let literature: FakeLiteratureServer;

beforeAll(async () => {
  literature = await startFakeLiteratureServer();
  stack = await startStack({
    workerEnv: {
      AUTOLAB_SEMANTIC_SCHOLAR_URL: literature.semanticScholarUrl,
      AUTOLAB_OPENALEX_URL: literature.openAlexUrl,
    },
  });
}, 120_000);
afterAll(async () => {
  await stack?.close();
  await literature?.close();
});

describe('a paper whose text is not all ASCII', () => {
  it('compiles, prints what the fonts can set and drops the rest with a warning', async () => {
    const upload = await uploadFiles(stack, { 'refs.bib': BIB });
    const submitted = await api<RunRecord>(stack, '/v1/runs', {
      method: 'POST',
      body: JSON.stringify({
        goal: GOAL,
        model: 'unicode',
        maxIterations: 4,
        seeds: 0,
        search: { numDrafts: 1 },
        ideation: { numIdeas: 1, reflections: 0 },
        review: { reviewers: 0 },
        inputs: { papers: upload.id },
      }),
    });
    expect(submitted.status).toBe(202);
    expect(submitted.body.goal).toBe(GOAL);
    const runId = submitted.body.id;
    const final = await waitForStatus(stack, runId, ['succeeded', 'failed', 'cancelled'], 300_000);
    expect(final.error).toBeNull();
    expect(final.status).toBe('succeeded');

    const events = (await readSse(stack, runId)).events;
    // The model's own LaTeX compiled at the first attempt: no fix, no fallback.
    expect(events.filter((e) => e.type === 'paper.compile_failed')).toEqual([]);
    expect(events.find((e) => e.type === 'paper.ready')?.data).toMatchObject({ fallback: false, attempt: 1 });
    const warnings = events.filter((e) => e.type === 'warning').map((e) => e.data as { code: string; detail: string });
    const dropped = warnings.filter((w) => w.code === 'paper_characters_dropped');
    expect(dropped).toHaveLength(1);
    for (const c of ['🚀', '日', '本', '語', '漢', '字']) expect(dropped[0]!.detail).toContain(c);
    expect(dropped[0]!.detail).not.toMatch(/[éüñα]/u);

    const artifact = (path: string) => readFile(join(stack.dataDir, 'artifacts', runId, path));
    const log = (await artifact('paper/paper.log')).toString('utf8');
    expect(log).not.toMatch(/not set up for use with LaTeX|Missing character/);
    const file = join(mkdtempSync(join(tmpdir(), 'autolab-pdf-')), 'paper.pdf');
    writeFileSync(file, await artifact('paper/paper.pdf'));
    // Lines joined and hyphenation undone: a phrase may be broken across lines.
    const text = execFileSync('pdftotext', [file, '-'], { encoding: 'utf8' }).replace(/-\n/g, '-').replace(/\s+/g, ' ');
    // The title (escaped plain text), the prose (the model's LaTeX), the figure caption and the bibliography.
    expect(text).toContain('Naïve α-scaling for señor Müller’s widgets');
    expect(text).toContain('“Does α-scaling help naïve café models — even with prompts?”');
    expect(text).toContain('Señor Müller’s widgets are naïve; with β = 0.9 and momentum β2 they still learn.');
    expect(text).toContain('Steps saved per run — β-test of widgets');
    // The ellipsis is \textellipsis, which pdftotext reads as spaced dots.
    expect(text).toMatch(/saved 120 steps ?\. ?\. ?\./);
    expect(text).toMatch(/’Tis done — α wins\./);
    expect(text).toContain('Müller');
    expect(text).toContain('Núñez');
    expect(text).toContain('Über α-scaling — a “naïve” study');
    expect(text).not.toMatch(/[🚀日本語漢字]/u);
  }, 400_000);
});
