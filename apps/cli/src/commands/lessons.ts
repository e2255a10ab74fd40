import { LESSON_KINDS, type Lesson, type LessonDetail, type LessonKind } from '@autolab/contracts';
import type { CliContext } from '../context.js';
import { UsageError } from '../errors.js';
import { ExitCode } from '../exit-codes.js';
import { formatDateTime, formatNumber, formatTable, oneLine } from '../human-format.js';

export interface LessonListOptions {
  kind?: string;
  tag?: string[];
  /** Include retracted lessons. */
  all?: boolean;
  limit?: number;
  cursor?: string;
  json?: boolean;
}

const runsOf = (lesson: Lesson) => new Set(lesson.evidence.map((e) => e.runId)).size;

/** What a lesson's flags say, in a word: pinned, retracted, or nothing. */
const flags = (lesson: Lesson) => [lesson.pinned ? 'pinned' : '', lesson.retracted ? 'retracted' : ''].join(' ').trim();

/** `autolab lessons list [QUERY…]`: the tenant's lessons, or with a query the ones a run with that goal would get. */
export async function listLessonsCommand(
  ctx: CliContext,
  query: string[],
  options: LessonListOptions,
): Promise<ExitCode> {
  if (options.kind !== undefined && !(LESSON_KINDS as readonly string[]).includes(options.kind))
    throw new UsageError(`--kind: one of ${LESSON_KINDS.join(', ')}, not ${JSON.stringify(options.kind)}`);
  const q = query.join(' ').trim();
  const page = await ctx.client.listLessons({
    ...(q ? { q } : {}),
    ...(options.kind ? { kind: options.kind as LessonKind } : {}),
    ...(options.tag ? { tag: options.tag } : {}),
    ...(options.all ? { retracted: 'include' as const } : {}),
    ...(options.limit ? { limit: options.limit } : {}),
    ...(options.cursor ? { cursor: options.cursor } : {}),
  });
  if (options.json) {
    ctx.io.out(`${JSON.stringify(page)}\n`);
    return ExitCode.Ok;
  }
  if (page.lessons.length === 0) {
    ctx.io.out(q ? 'no lesson is relevant to that\n' : options.cursor ? 'no more lessons\n' : 'no lessons yet\n');
    return ExitCode.Ok;
  }
  const rows = page.lessons.map((l) => [
    l.id,
    l.kind,
    l.confidence.toFixed(2),
    String(runsOf(l)),
    flags(l) || '-',
    oneLine(l.text, 80),
  ]);
  const header = ['ID', 'KIND', 'CONF', 'RUNS', 'FLAGS', 'LESSON'];
  const align = header.map((name): 'left' | 'right' => (name === 'CONF' || name === 'RUNS' ? 'right' : 'left'));
  const maxWidth = ctx.io.stdoutTty?.columns();
  for (const line of formatTable(rows, { header, align, ...(maxWidth ? { maxWidth } : {}) })) ctx.io.out(`${line}\n`);
  if (page.nextCursor) ctx.io.out(`more: autolab lessons list${q ? ` ${q}` : ''} --cursor ${page.nextCursor}\n`);
  return ExitCode.Ok;
}

/** `autolab lessons show ID`: the lesson and its evidence trail, each entry with its run, node and files. */
export async function showLessonCommand(ctx: CliContext, id: string, options: { json?: boolean }): Promise<ExitCode> {
  const lesson = await ctx.client.getLesson(id);
  if (options.json) {
    ctx.io.out(`${JSON.stringify(lesson)}\n`);
    return ExitCode.Ok;
  }
  for (const line of describeLesson(lesson, ctx)) ctx.io.out(`${line}\n`);
  return ExitCode.Ok;
}

export function describeLesson(lesson: LessonDetail, ctx: Pick<CliContext, 'clock'>): string[] {
  const value = (v: number | null) => (v === null ? 'failed' : formatNumber(v));
  const lines = [
    `${lesson.id} (${lesson.kind}, confidence ${lesson.confidence.toFixed(2)}${flags(lesson) ? `, ${flags(lesson)}` : ''})`,
    oneLine(lesson.text, 1000),
    `tenant ${lesson.tenant}; tags ${lesson.tags.join(', ') || '-'}; updated ${formatDateTime(lesson.updatedAt, ctx.clock)}`,
    `evidence (${lesson.evidence.length}):`,
  ];
  for (const e of lesson.evidence) {
    const change = e.metric
      ? ` ${e.metric} ${e.before === null && e.parentNodeId === null ? '' : `${value(e.before)} → `}${value(e.after)}`
      : '';
    lines.push(
      `  ${e.stance === 'supports' ? '+' : '-'} ${e.runId} ${e.nodeId}${e.parentNodeId ? ` (of ${e.parentNodeId})` : ''}${change}`,
    );
    if (e.error) lines.push(`      error: ${oneLine(e.error, 200)}`);
    lines.push(`      ${e.links.results ?? e.links.node}`);
  }
  return lines;
}

/** Pins, unpins, retracts or restores a lesson, and says what it is now. */
export async function updateLessonCommand(
  ctx: CliContext,
  id: string,
  change: { pinned?: boolean; retracted?: boolean },
): Promise<ExitCode> {
  const lesson = await ctx.client.updateLesson(id, change);
  ctx.io.out(`${lesson.id} ${flags(lesson) || 'neither pinned nor retracted'}\n`);
  return ExitCode.Ok;
}

export async function deleteLessonCommand(ctx: CliContext, id: string): Promise<ExitCode> {
  await ctx.client.deleteLesson(id);
  ctx.io.out(`${id} deleted\n`);
  return ExitCode.Ok;
}
