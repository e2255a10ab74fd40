import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadScenario, ScenarioError } from './scenario-file.js';

describe('scenario files', () => {
  it('extends another scenario, replacing only the keys it names', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'scenario-'));
    await writeFile(
      join(dir, 'base.yaml'),
      'replies:\n  a: [{ arguments: { v: 1 } }]\n  b: [{ arguments: { v: 2 } }]\n',
    );
    await writeFile(join(dir, 'child.yaml'), 'extends: base\nreplies:\n  b: [{ content: "changed" }]\n');
    const child = await loadScenario(join(dir, 'child.yaml'));
    expect(child.replies.a![0]).toMatchObject({ kind: 'tool_call', arguments: '{"v":1}' });
    expect(child.replies.b![0]).toMatchObject({ kind: 'content', content: 'changed' });
  });

  it('refuses a cycle of extends', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'scenario-'));
    await writeFile(join(dir, 'x.yaml'), 'extends: y\nreplies:\n  a: [{ content: "x" }]\n');
    await writeFile(join(dir, 'y.yaml'), 'extends: x\nreplies:\n  a: [{ content: "y" }]\n');
    await expect(loadScenario(join(dir, 'x.yaml'))).rejects.toThrow(ScenarioError);
  });
});
