import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const BIOME = fileURLToPath(new URL('../node_modules/.bin/biome', import.meta.url));

/** Formats a generated file the way `biome check` wants it, so lint and the "committed file is current" tests agree. */
export function formatWithBiome(source: string, path: string): string {
  return execFileSync(BIOME, ['format', `--stdin-file-path=${path}`], { input: source, encoding: 'utf8' });
}
