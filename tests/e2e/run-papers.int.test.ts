import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { RunRecord, UploadRecord } from '@autolab/contracts';
import { type FakeLiteratureServer, startFakeLiteratureServer } from '@autolab/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, readSse, type Stack, startStack, waitForStatus } from '../stack.js';

/**
 * A run given the user's papers, through the real stack: a PDF compiled at test time in the LaTeX image, a .bib with
 * an ordinary entry, the Adam paper (which the literature search also returns) and a hostile entry, and a file that
 * is not a PDF. The text is extracted inside a sandbox, reaches the ideation prompt, and the paper cites the papers
 * from a references.bib that compiles.
 */
const run = promisify(execFile);
const latexImage = process.env.AUTOLAB_LATEX_IMAGE ?? 'autolab-latex:latest';
const ABSTRACT_PHRASE = 'zebra-striped attention heads';
const BIB = String.raw`@string{iclr = "International Conference on Learning Representations"}
@preamble{"\immediate\write18{touch /tmp/pwned}"}
@article{smith2020sparse,
  title = {Sparse {Widgets} for $\alpha$-Grokking},
  author = {Smith, Jane and M{\"u}ller, J{\"o}rg},
  journal = {Journal of Widgets},
  year = 2020,
  abstract = {Sparse widgets speed up delayed generalisation.},
}
@inproceedings{kingma2015adam,
  title = {Adam: A Method for Stochastic Optimization},
  author = {Kingma, Diederik P. and Ba, Jimmy},
  booktitle = iclr,
  year = {2015},
}
@misc{evil%key\input,
  title = {\immediate\write18{rm -rf /}\input{/etc/passwd}\catcode 64=11 unbalanced \{ brace} 100% & #1 _x^^5c 漢字 \end{document}},
  author = {Smith, and a, b, c, d},
}
@inproceedings{broken,
  title = {Never closed,
`;
let stack: Stack;
let literature: FakeLiteratureServer;
let pdf: Buffer;

beforeAll(async () => {
  // A real PDF without metadata: its title must come from the first page's layout.
  const tex = String.raw`\documentclass{article}
\title{Grokking Modular Arithmetic with Tiny Transformers}
\author{Ada Example}
\date{}
\begin{document}
\maketitle
\begin{abstract}
We show that ${ABSTRACT_PHRASE} generalise on modular addition long after they memorise the training set.
\end{abstract}
\section{Introduction}
Delayed generalisation is called grokking.
\end{document}
`;
  const compile = run(
    'docker',
    [
      'run',
      '--rm',
      '-i',
      '--network',
      'none',
      latexImage,
      'sh',
      '-c',
      'cd /tmp && cat > p.tex && pdflatex -interaction=nonstopmode p.tex >/dev/null && cat p.pdf',
    ],
    { encoding: 'buffer', maxBuffer: 1 << 22 },
  );
  compile.child.stdin?.end(tex);
  pdf = (await compile).stdout;
  expect(pdf.subarray(0, 5).toString()).toBe('%PDF-');
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

describe('a run with papers', () => {
  it('reads the papers in a sandbox, builds the ideas on them, and cites them from a references.bib that compiles', async () => {
    const form = new FormData();
    form.append('file', new Blob([new Uint8Array(pdf)]), 'grokking.pdf');
    form.append('file', new Blob([BIB]), 'refs.bib');
    form.append('file', new Blob(['this is not a pdf']), 'broken.pdf');
    const uploaded = await fetch(`${stack.apiUrl}/v1/uploads`, {
      method: 'POST',
      headers: { authorization: `Bearer ${stack.apiKey}` },
      body: form,
    });
    expect(uploaded.status).toBe(201);
    const upload = (await uploaded.json()) as UploadRecord;

    const submitted = await api<RunRecord>(stack, '/v1/runs', {
      method: 'POST',
      body: JSON.stringify({
        goal: 'Do sparse widgets make tiny transformers grok modular addition sooner?',
        model: 'papers',
        maxIterations: 4,
        seeds: 0,
        search: { numDrafts: 1 },
        ideation: { numIdeas: 1, reflections: 0 },
        review: { reviewers: 0 },
        inputs: { papers: upload.id },
      }),
    });
    expect(submitted.status).toBe(202);
    expect(submitted.body.inputs).toEqual({ papers: upload.id });
    const runId = submitted.body.id;
    const final = await waitForStatus(stack, runId, ['succeeded', 'failed', 'cancelled'], 300_000);
    expect(final.error).toBeNull();
    expect(final.status).toBe('succeeded');

    // What was read, and what could not be: the run went on.
    const events = (await readSse(stack, runId)).events;
    const papers = events.find((e) => e.type === 'inputs.papers')?.data as {
      references: { key: string; from: string; file: string }[];
      unreadable: { file: string; reason: string }[];
    };
    expect(papers.references.map((r) => [r.key, r.from, r.file])).toEqual([
      ['smith2020sparse', 'bib', 'refs.bib'],
      ['kingma2015adam', 'bib', 'refs.bib'],
      ['evilkeyinput', 'bib', 'refs.bib'],
      ['anongrokking', 'pdf', 'grokking.pdf'],
    ]);
    expect(papers.unreadable.map((u) => u.file)).toEqual(['broken.pdf', 'refs.bib']);
    const warnings = events.filter((e) => e.type === 'warning').map((e) => e.data as { code: string; detail: string });
    expect(warnings).toContainEqual({ code: 'paper_unreadable', detail: expect.stringMatching(/^broken\.pdf: /) });
    const inputsJson = JSON.parse(await readFile(join(stack.dataDir, 'artifacts', runId, 'inputs.json'), 'utf8'));
    expect(inputsJson.inputs.papers).toEqual({ uploadId: upload.id, mount: '/workspace/input/papers/' });
    expect(inputsJson.papers.references[3]).toMatchObject({
      title: 'Grokking Modular Arithmetic with Tiny Transformers',
      summary: expect.stringContaining(ABSTRACT_PHRASE),
    });

    // The extracted text reached ideation, and the writeup was told the keys.
    const transcript = (await readFile(join(stack.dataDir, 'artifacts', runId, 'transcript.jsonl'), 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { purpose: string; prompt: string });
    const prompt = (purpose: string) => transcript.find((t) => t.purpose === purpose)?.prompt ?? '';
    expect(prompt('ideas')).toContain(ABSTRACT_PHRASE);
    expect(prompt('ideas')).toContain('the ideas must build on them');
    expect(prompt('ideas')).toContain('[smith2020sparse] Sparse Widgets for alpha-Grokking');
    expect(prompt('paper')).toContain('- anongrokking: Grokking Modular Arithmetic with Tiny Transformers');
    expect(prompt('paper')).toContain('related-work section must discuss them');
    expect(prompt('draft')).not.toContain(ABSTRACT_PHRASE);

    // The model's paper compiled (no fallback) with the hostile entry in its bibliography, and cites the papers.
    expect(events.find((e) => e.type === 'paper.ready')?.data).toMatchObject({ fallback: false });
    const artifact = (path: string) => readFile(join(stack.dataDir, 'artifacts', runId, path), 'utf8');
    const bib = await artifact('paper/references.bib');
    const keys = [...bib.matchAll(/^@\w+\{([^,]+),/gm)].map((m) => m[1]!);
    expect(keys.slice(0, 4)).toEqual(['smith2020sparse', 'kingma2015adam', 'evilkeyinput', 'anongrokking']);
    expect(keys).toContain('loshchilov2019decoupled');
    expect(new Set(keys.map((k) => k.toLowerCase())).size).toBe(keys.length);
    // The Adam paper the search also returned is listed once, under the user's key.
    expect(bib.match(/Adam: A Method for Stochastic Optimization/g)).toHaveLength(1);
    expect(bib).toContain('title = {{Grokking Modular Arithmetic with Tiny Transformers}}');
    expect(bib).not.toMatch(/\\(write|input|immediate|catcode|end)\b|@preamble|\\\{/);
    const tex = await artifact('paper/paper.tex');
    const cited = [...tex.matchAll(/\\cite\{([^}]+)\}/g)].flatMap((m) => m[1]!.split(','));
    expect(cited).toEqual(
      expect.arrayContaining(['smith2020sparse', 'anongrokking', 'kingma2015adam', 'evilkeyinput']),
    );
    for (const key of cited) expect(keys).toContain(key);
    expect(await artifact('paper/paper.log')).not.toMatch(/Citation .* undefined/);
  }, 400_000);
});
