import { z } from 'zod';
import { BUILTIN_SCENARIOS_DIR } from './scenario-file.js';
import { startScriptedServer } from './scripted-openai-server.js';

/**
 * The scripted OpenAI-compatible server as a process, for the offline demo and tests in other processes:
 * `npx tsx packages/testing/src/scripted-server-main.ts` prints one line, `SCRIPTED_OPENAI_BASE_URL=…`. Its port is
 * `AUTOLAB_SCRIPTED_PORT` (default: a free one) — never `PORT`, which is the API's: `PORT=18710 npm start` gave the
 * API's port to this server, and the API then failed with EADDRINUSE.
 */
const Env = z.object({ AUTOLAB_SCRIPTED_PORT: z.coerce.number().int().min(0).max(65_535).default(0) });
const env = Env.parse(process.env);

const server = await startScriptedServer({ scenarioDirs: [BUILTIN_SCENARIOS_DIR], port: env.AUTOLAB_SCRIPTED_PORT });
process.stdout.write(`SCRIPTED_OPENAI_BASE_URL=${server.baseUrl}\n`);

const stop = async () => {
  await server.close();
  process.exit(0);
};
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
