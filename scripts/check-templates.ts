/**
 * `npm run check-templates [-- NAME …]`: runs every built-in template's baseline in the real sandbox image, the way a
 * run does (1 CPU, 2 GB, no network, read-only root, the program copied from a read-only /workspace/input/code/, the
 * experiment user, SEED=0), and checks that it finishes in under 2 minutes and writes its metric to results.json.
 * Then it runs the template's plot.py on those results, laid out as the figures step lays them out, and checks that
 * it draws at least one PNG. Prints one line per template and a JSON summary; exits 1 if any check failed.
 * Outputs (stdout, results.json, figures) are kept in .data/check-templates/<name>/ for a look.
 *
 * Not part of `npm test` (four baselines take about three minutes); docs/inputs.md#templates says when to run it.
 */

import { execFile } from 'node:child_process';
import { chmod, copyFile, mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { metricsFromResults } from '@autolab/engine';
import { TemplateCatalog, type TemplateSource } from '@autolab/templates';

const IMAGE = process.env.AUTOLAB_PYTHON_IMAGE || 'autolab-python:latest';
/** What the issue asks of every baseline: under 2 minutes on 1 CPU. */
const LIMIT_SECONDS = 120;
/** The program is stopped a little after the limit, so that a hanging one still ends the check. */
const KILL_SECONDS = LIMIT_SECONDS + 30;
const OUT_DIR = resolve('.data/check-templates');

interface Check {
  template: string;
  ok: boolean;
  seconds: number;
  metric: string;
  value: number | null;
  figures: string[];
  problems: string[];
}

/** `docker run` with the sandbox's restrictions; `work` is mounted writable at /out, `input` read-only. */
function dockerRun(
  input: { dir: string; target: string },
  work: string,
  script: string,
): Promise<{ code: number; stdout: string; stderr: string }> {
  const args = [
    'run',
    '--rm',
    '--network=none',
    '--cpus=1',
    '--memory=2048m',
    '--memory-swap=2048m',
    '--pids-limit=64',
    '--cap-drop=ALL',
    '--security-opt=no-new-privileges',
    '--read-only',
    '--tmpfs=/workspace:size=1024m,uid=1000,gid=1000,exec',
    '--tmpfs=/tmp:size=512m,uid=1000,gid=1000',
    `--volume=${input.dir}:${input.target}:ro`,
    `--volume=${work}:/out`,
    '--env=SEED=0',
    '--workdir=/workspace',
    IMAGE,
    'sh',
    '-c',
    script,
  ];
  return new Promise((done) => {
    execFile('docker', args, { maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
      done({ code, stdout, stderr });
    });
  });
}

async function checkOne(source: TemplateSource): Promise<Check> {
  const { template } = source;
  const out = join(OUT_DIR, template.name);
  await rm(out, { recursive: true, force: true });
  const codeDir = join(out, 'code');
  const figuresIn = join(out, 'figures-input');
  await mkdir(codeDir, { recursive: true });
  await mkdir(figuresIn, { recursive: true });
  // The container's user (uid 1000) writes its outputs here.
  await chmod(out, 0o777);
  for (const file of source.codeFiles) await copyFile(join(source.dir, file.path), join(codeDir, file.path));
  const check: Check = {
    template: template.name,
    ok: false,
    seconds: 0,
    metric: template.metric.name,
    value: null,
    figures: [],
    problems: [],
  };

  const started = process.hrtime.bigint();
  const run = await dockerRun(
    { dir: codeDir, target: '/workspace/input/code' },
    out,
    `cp -r /workspace/input/code/. . && timeout ${KILL_SECONDS} python3 baseline.py; status=$?; ` +
      'cp results.json *.png *.txt /out/ 2>/dev/null; exit $status',
  );
  check.seconds = Math.round(Number(process.hrtime.bigint() - started) / 1e7) / 100;
  await writeFile(join(out, 'stdout.txt'), run.stdout);
  await writeFile(join(out, 'stderr.txt'), run.stderr);
  if (run.code !== 0) check.problems.push(`exit ${run.code}: ${run.stderr.trim().split('\n').at(-1) ?? ''}`);
  if (check.seconds >= LIMIT_SECONDS) check.problems.push(`took ${check.seconds} s (limit ${LIMIT_SECONDS} s)`);
  const results = await readFile(join(out, 'results.json'), 'utf8').catch(() => null);
  let metrics: Record<string, number> = {};
  if (results === null) check.problems.push('wrote no results.json');
  else {
    try {
      metrics = metricsFromResults(JSON.parse(results));
    } catch (err) {
      check.problems.push(`results.json is not JSON: ${(err as Error).message}`);
    }
  }
  check.value = metrics[template.metric.name] ?? null;
  if (results !== null && check.value === null)
    check.problems.push(`results.json has no number "${template.metric.name}"`);

  // The figures step's files (packages/engine/src/figures.ts), as they would be after a run of the baseline alone.
  const node = { id: 'n001', parent: null, stage: 'baseline', operator: 'draft', plan: 'The template baseline.' };
  const figureFiles = {
    'results_all.json': [{ ...node, buggy: check.value === null, metrics }],
    'best_results.json': check.value === null ? null : { id: node.id, metrics },
    'seeds.json': null,
    'metric.json': template.metric,
  };
  for (const [name, value] of Object.entries(figureFiles))
    await writeFile(join(figuresIn, name), JSON.stringify(value, null, 1));
  await writeFile(join(figuresIn, 'plot.py'), template.plotCode);
  await mkdir(join(out, 'figures'));
  await chmod(join(out, 'figures'), 0o777);
  const plot = await dockerRun(
    { dir: figuresIn, target: '/workspace/input/figures' },
    out,
    'cp -r /workspace/input/figures/. . && timeout 120 python3 plot.py; status=$?; ' +
      'cp *.png /out/figures/ 2>/dev/null; exit $status',
  );
  check.figures = (await readdir(join(out, 'figures'))).filter((f) => f.endsWith('.png')).sort();
  if (plot.code !== 0) check.problems.push(`plot.py exit ${plot.code}: ${plot.stderr.trim().split('\n').at(-1) ?? ''}`);
  else if (check.figures.length === 0) check.problems.push('plot.py drew no PNG');
  check.ok = check.problems.length === 0;
  return check;
}

async function main(): Promise<void> {
  const catalog = await TemplateCatalog.load();
  const wanted = process.argv.slice(2);
  const unknown = wanted.filter((name) => !catalog.get(name));
  if (unknown.length > 0) {
    console.error(
      `unknown template(s): ${unknown.join(', ')}; known: ${catalog
        .list()
        .map((t) => t.name)
        .join(', ')}`,
    );
    process.exit(2);
  }
  const sources = catalog
    .list()
    .filter((t) => wanted.length === 0 || wanted.includes(t.name))
    .map((t) => catalog.get(t.name)!);
  console.error(`checking ${sources.length} template(s) in ${IMAGE} (1 CPU, no network; limit ${LIMIT_SECONDS} s)`);
  const checks: Check[] = [];
  for (const source of sources) {
    const check = await checkOne(source);
    checks.push(check);
    console.error(
      `${check.ok ? 'ok  ' : 'FAIL'} ${check.template.padEnd(14)} ${String(check.seconds).padStart(7)} s  ` +
        `${check.metric} = ${check.value ?? '—'}  figures: ${check.figures.join(', ') || 'none'}` +
        (check.problems.length ? `\n     ${check.problems.join('\n     ')}` : ''),
    );
  }
  console.log(JSON.stringify({ image: IMAGE, limitSeconds: LIMIT_SECONDS, checks }, null, 2));
  console.error(`outputs: ${OUT_DIR}/<template>/`);
  process.exit(checks.every((c) => c.ok) ? 0 : 1);
}

await main();
