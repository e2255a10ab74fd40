import { readFile } from 'node:fs/promises';
import { loadApiConfig } from '@autolab/api';
import { BUILTIN_PYTHON_PACKAGES, CreateRunRequest } from '@autolab/contracts';
import { loadWorkerConfig } from '@autolab/worker';
import { describe, expect, it } from 'vitest';

const ALT = JSON.stringify([
  { name: 'alt', tag: 'autolab-python-alt:test', packages: ['numpy', 'einops'], description: 'with einops' },
]);

describe('AUTOLAB_SANDBOX_IMAGES', () => {
  it('lists the built-in python image first, as the default, then the registered ones (API and worker alike)', () => {
    for (const config of [
      loadApiConfig({ AUTOLAB_PYTHON_IMAGE: 'autolab-python:abc', AUTOLAB_SANDBOX_IMAGES: ALT }),
      loadWorkerConfig({ AUTOLAB_PYTHON_IMAGE: 'autolab-python:abc', AUTOLAB_SANDBOX_IMAGES: ALT }),
    ]) {
      expect(config.sandboxImages).toEqual([
        expect.objectContaining({ name: 'python', tag: 'autolab-python:abc', default: true }),
        {
          name: 'alt',
          tag: 'autolab-python-alt:test',
          packages: ['numpy', 'einops'],
          description: 'with einops',
          default: false,
        },
      ]);
    }
    expect(loadApiConfig({}).sandboxImages.map((i) => i.name)).toEqual(['python']);
    expect(loadWorkerConfig({ AUTOLAB_SANDBOX_IMAGES: ' ' }).sandboxImages.map((i) => i.name)).toEqual(['python']);
  });

  it('refuses a bad setting at start-up, saying what is wrong and where', () => {
    const refused = (value: string) => {
      try {
        loadWorkerConfig({ AUTOLAB_SANDBOX_IMAGES: value });
      } catch (err) {
        return (err as Error).message;
      }
      throw new Error('accepted');
    };
    // zod's message first, then where: `→ at AUTOLAB_SANDBOX_IMAGES[0].tag`.
    const cases: [string, RegExp, string][] = [
      ['alt=img:1', /not JSON \(.*\); expected e\.g\. \[\{"name"/, 'AUTOLAB_SANDBOX_IMAGES'],
      ['{"name": "alt"}', /expected a JSON array/, 'AUTOLAB_SANDBOX_IMAGES'],
      ['[{"name": "alt"}]', /expected string/, 'AUTOLAB_SANDBOX_IMAGES[0].tag'],
      ['[{"name": "Alt Image", "tag": "x:1"}]', /lowercase letters/, 'AUTOLAB_SANDBOX_IMAGES[0].name'],
      ['[{"name": "python", "tag": "x:1"}]', /built-in image \(set its tag with AUTOLAB_PYTHON_IMAGE/, '[0].name'],
      ['[{"name": "a", "tag": "x:1"}, {"name": "a", "tag": "y:1"}]', /"a" is registered twice/, '[1].name'],
      ['[{"name": "a", "tag": "x:1", "gpu": true}]', /gpu/, 'AUTOLAB_SANDBOX_IMAGES[0]'],
    ];
    for (const [value, message, where] of cases) {
      const text = refused(value);
      expect(text).toMatch(message);
      expect(text).toContain(`→ at ${where.startsWith('[') ? 'AUTOLAB_SANDBOX_IMAGES' : ''}${where}`);
    }
    expect(() => loadApiConfig({ AUTOLAB_SANDBOX_IMAGES: '[1]' })).toThrow(/invalid API configuration/);
  });

  it('names the image of a run that names none: python', () => {
    expect(CreateRunRequest.parse({ goal: 'a goal of some length' }).sandbox.image).toBe('python');
    expect(CreateRunRequest.parse({ goal: 'a goal of some length', sandbox: { cpus: 2 } }).sandbox.image).toBe(
      'python',
    );
  });

  it('lists for the built-in image what its Dockerfile installs', async () => {
    const dockerfile = await readFile(new URL('../sandbox-images/python/Dockerfile', import.meta.url), 'utf8');
    const debianName = (pkg: string) =>
      pkg === 'python3' ? 'python3' : `python3-${pkg.replace('scikit-learn', 'sklearn')}`;
    for (const pkg of BUILTIN_PYTHON_PACKAGES) expect(dockerfile).toMatch(new RegExp(`\\s${debianName(pkg)}\\s`));
  });
});
