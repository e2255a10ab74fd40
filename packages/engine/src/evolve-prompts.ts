import type { PatchType } from '@autolab/contracts';
import type { EvolveCandidate, Recommendation } from './evolve-state.js';
import { formatNumber } from './journal.js';
import { clip, oneLine } from './text.js';

/** The prompt text of evolve mode (the tools are in tools.ts). */

export const MUTATE_SYSTEM =
  'You are the mutation operator of an evolutionary search over programs. You change a program so that its ' +
  'evaluator gives it a higher score, and it stays correct. You may change only the code between the ' +
  'EVOLVE-BLOCK-START and EVOLVE-BLOCK-END comment lines (the whole file when it has none); the code outside them ' +
  'is fixed. Learn from the scores and errors shown: repeat what worked, avoid what failed, and try something ' +
  'different from the programs you are shown. Answer with exactly one tool call.';

export const RECOMMEND_SYSTEM =
  'You read the recent results of an evolutionary search over programs and write short, concrete recommendations ' +
  'for the next mutations. Each recommendation cites the candidates whose results show it. Answer with exactly one ' +
  'tool call.';

export const REPORT_SYSTEM =
  'You explain an evolutionary search to a researcher: what changed from the initial program to the best one and ' +
  'why it helped, citing candidates. Never write a number: the report puts the measured ones beside your text. ' +
  'Answer with exactly one tool call.';

/** A program shown in a prompt, at most this long (longer ones are cut in the middle, which the prompt says). */
const PROGRAM_CHARS = 24_000;

export interface ShownProgram {
  candidate: EvolveCandidate;
  text: string;
}

const describe = (c: EvolveCandidate): string => {
  const score = c.score === null ? c.status : `score ${formatNumber(c.score)}`;
  const others = Object.entries(c.metrics)
    .filter(([name]) => name !== 'score')
    .slice(0, 8)
    .map(([name, value]) => `${name} ${formatNumber(value)}`);
  return `${c.id} (${score}${others.length > 0 ? `; ${others.join(', ')}` : ''})`;
};

const codeBlock = (text: string): string => `\`\`\`\n${clip(text, PROGRAM_CHARS)}\n\`\`\``;

export function mutatePrompt(options: {
  goal: string;
  fileName: string;
  patchType: PatchType;
  parent: ShownProgram;
  /** The other parent of a crossover. */
  mate: ShownProgram | null;
  /** Other good programs, for context (scores and the models' one-line accounts). */
  inspirations: EvolveCandidate[];
  /** What became of the parent's earlier children. */
  siblings: EvolveCandidate[];
  /** This child's earlier attempts, rejected as too similar to an existing program. */
  rejectedTries: number;
  blockCount: number;
  recommendations: Recommendation[];
  hints: string[];
  /** Lessons of the tenant's earlier runs (`lessonsBlock`), or empty. */
  lessons: string;
}): string {
  const { parent, mate } = options;
  const parts = [
    `## Goal\n${options.goal}`,
    `## The program: ${options.fileName}, candidate ${describe(parent.candidate)}\n${codeBlock(parent.text)}`,
  ];
  if (mate) parts.push(`## The second parent: candidate ${describe(mate.candidate)}\n${codeBlock(mate.text)}`);
  if (options.inspirations.length > 0) {
    const lines = options.inspirations.map((c) => `- ${describe(c)}: ${oneLine(c.summary, 200)}`);
    parts.push(`## Other good programs of this run\n${lines.join('\n')}`);
  }
  if (options.siblings.length > 0) {
    const lines = options.siblings.map(
      (c) => `- ${describe(c)}: ${oneLine(c.summary, 160)}${c.error ? ` — ${oneLine(c.error, 200)}` : ''}`,
    );
    parts.push(`## Earlier children of ${parent.candidate.id} (do not repeat them)\n${lines.join('\n')}`);
  }
  if (options.recommendations.length > 0) {
    const lines = options.recommendations.map((r) => `- ${r.text} (${r.candidateIds.join(', ')})`);
    parts.push(`## Recommendations from earlier generations of this run\n${lines.join('\n')}`);
  }
  if (options.lessons) parts.push(`## Lessons${options.lessons}`);
  if (options.hints.length > 0)
    parts.push(`## Hints from the researcher\n${options.hints.map((h) => `- ${h}`).join('\n')}`);
  if (options.rejectedTries > 0)
    parts.push(
      `## Note\nYour last ${options.rejectedTries === 1 ? 'answer was' : `${options.rejectedTries} answers were`} rejected: ` +
        'too similar to a program this run already has. Make a substantially different change.',
    );
  parts.push(
    `## Your task\n${taskFor(options.patchType, options.blockCount, parent.candidate.id, mate?.candidate.id)}`,
  );
  return parts.join('\n\n');
}

function taskFor(patchType: PatchType, blocks: number, parentId: string, mateId?: string): string {
  switch (patchType) {
    case 'diff':
      return `Improve ${parentId} with a few focused edits: call propose_diff; each search text must be copied exactly from inside an EVOLVE-BLOCK of the program above and occur there once.`;
    case 'rewrite':
      return `Write a new version of ${parentId}: call propose_rewrite with the new content of its ${blocks} EVOLVE-BLOCK region(s), in order, without the marker lines.`;
    case 'crossover':
      return `Combine the strengths of ${parentId} and ${mateId}: call propose_rewrite with the new content of the ${blocks} EVOLVE-BLOCK region(s) of ${parentId}, in order, without the marker lines.`;
  }
}

export function recommendPrompt(options: {
  goal: string;
  generation: number;
  recent: EvolveCandidate[];
  previous: Recommendation[];
}): string {
  const lines = options.recent.map((c) => {
    const from = c.parentIds.length > 0 ? ` from ${c.parentIds.join(' + ')}` : '';
    const what = c.error ? ` — ${oneLine(c.error, 200)}` : '';
    return `- ${describe(c)}${from} (${c.patchType}${c.model ? ` by ${c.model}` : ''}): ${oneLine(c.summary, 200)}${what}`;
  });
  const parts = [
    `## Goal\n${options.goal}`,
    `## Candidates of the recent generations (up to generation ${options.generation})\n${lines.join('\n')}`,
  ];
  if (options.previous.length > 0)
    parts.push(
      `## Your earlier recommendations (keep, revise or drop them)\n${options.previous.map((r) => `- ${r.text} (${r.candidateIds.join(', ')})`).join('\n')}`,
    );
  parts.push(
    '## Your task\nCall record_recommendations with at most 5 short recommendations for the next mutations, each citing the candidate ids (from the list above) whose results show it.',
  );
  return parts.join('\n\n');
}

export function reportPrompt(options: { goal: string; lineage: EvolveCandidate[]; diff: string }): string {
  const lines = options.lineage.map(
    (c) =>
      `- ${c.id} (generation ${c.generation}, ${c.patchType}${c.model ? ` by ${c.model}` : ''}): ${oneLine(c.summary, 300)}`,
  );
  return [
    `## Goal\n${options.goal}`,
    `## The lineage of the best program, from the initial one\n${lines.join('\n')}`,
    `## Its diff against the initial program\n${codeBlock(options.diff)}`,
    '## Your task\nCall explain_best_program: a summary of how the program changed and why that helped, and one entry per candidate of the lineage that made a difference. Write no numbers.',
  ].join('\n\n');
}
