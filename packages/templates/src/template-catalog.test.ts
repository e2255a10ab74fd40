import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Template } from '@autolab/contracts';
import { afterEach, describe, expect, it } from 'vitest';
import { TemplateCatalog, TemplateError } from './template-catalog.js';

describe('the built-in templates', () => {
  it('all load, validate and keep the results contract', async () => {
    const catalog = await TemplateCatalog.load();
    const names = catalog.list().map((t) => t.name);
    expect(names).toEqual(expect.arrayContaining(['tabular', 'grokking', 'diffusion-2d', 'char-lm']));
    for (const template of catalog.list()) {
      expect(Template.parse(template)).toEqual(template);
      const { baselineCode, plotCode, metric } = template;
      // Seeded from SEED, results in results.json with the declared metric as a key, nothing from the network.
      expect(baselineCode, template.name).toContain('os.environ.get("SEED"');
      expect(baselineCode, template.name).toContain('"results.json"');
      expect(baselineCode, template.name).toContain(`"${metric.name}"`);
      expect(baselineCode, template.name).not.toMatch(/^\s*(import|from)\s+(urllib|requests|http|socket|einops)\b/m);
      // The plot code reads what the figures step writes (packages/engine/src/figures.ts).
      expect(plotCode, template.name).toContain('results_all.json');
      expect(plotCode, template.name).toContain('.png');
      expect(template.seedIdeas.length, template.name).toBeGreaterThan(0);
      // The starting code the sandbox gets is the baseline alone: its only .py file is the entry point.
      expect(catalog.get(template.name)?.codeFiles).toEqual([
        { path: 'baseline.py', size: Buffer.byteLength(baselineCode) },
      ]);
    }
    expect(catalog.get('no-such-template')).toBeNull();
  });
});

describe('a broken template', () => {
  let dir: string;
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });
  const write = async (files: Record<string, string>) => {
    dir = await mkdtemp(join(tmpdir(), 'templates-'));
    await writeFile(join(dir, 'README.md'), 'not a template: files beside the directories are ignored');
    for (const [path, content] of Object.entries(files)) {
      await mkdir(join(dir, path, '..'), { recursive: true });
      await writeFile(join(dir, path), content);
    }
  };
  const manifest = [
    'title: T',
    'goal: A goal of at least ten characters.',
    'metric: { name: score, direction: maximize, description: The score. }',
  ].join('\n');

  it('stops the load with the file and the problem named', async () => {
    await write({ 'ok/template.yaml': manifest, 'ok/baseline.py': 'print(1)', 'ok/plot.py': 'print(2)' });
    const catalog = await TemplateCatalog.load(dir);
    expect(catalog.get('ok')?.template).toMatchObject({ seedIdeas: [], paperNotes: null, baselineCode: 'print(1)' });

    await rm(dir, { recursive: true });
    await write({ 'bad/template.yaml': manifest, 'bad/baseline.py': 'print(1)' });
    await expect(TemplateCatalog.load(dir)).rejects.toThrow(/bad\/plot\.py is missing/);

    await rm(dir, { recursive: true });
    await write({
      'bad/template.yaml': manifest.replace('maximize', 'upwards'),
      'bad/baseline.py': 'x',
      'bad/plot.py': 'x',
    });
    const err = await TemplateCatalog.load(dir).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TemplateError);
    expect((err as Error).message).toMatch(/bad\/template\.yaml: metric\.direction: /);

    await rm(dir, { recursive: true });
    await write({ 'Bad_Name/template.yaml': manifest, 'Bad_Name/baseline.py': 'x', 'Bad_Name/plot.py': 'x' });
    await expect(TemplateCatalog.load(dir)).rejects.toThrow(/Bad_Name: a template's directory name/);
  });
});
