import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/**
 * Tests run after scripts/ensure-services.sh, which writes the endpoints and image tags it made sure of to
 * .data/services.env. Values already in the environment win.
 */
const file = fileURLToPath(new URL('../../../.data/services.env', import.meta.url));
if (existsSync(file)) {
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const match = /^([A-Z_][A-Z0-9_]*)=(.*)$/.exec(line.trim());
    if (match && process.env[match[1]!] === undefined) process.env[match[1]!] = match[2]!;
  }
}
