import { z } from 'zod';
import { BUILTIN_SCENARIOS_DIR } from './scenario-file.js';
import { startScriptedServer } from './scripted-openai-server.js';

/**
 * The scripted OpenAI-compatible server as a process, for the offline demo and tests in other processes:
 * `PORT=0 npx tsx packages/testing/src/scripted-server-main.ts` prints one line, `SCRIPTED_OPENAI_BASE_URL=…`.
 */
const Env = z.object({ PORT: z.coerce.number().int().min(0).max(65_535).default(0) });
const env = Env.parse(process.env);

const server = await startScriptedServer({ scenarioDirs: [BUILTIN_SCENARIOS_DIR], port: env.PORT });
process.stdout.write(`SCRIPTED_OPENAI_BASE_URL=${server.baseUrl}\n`);

const stop = async () => {
  await server.close();
  process.exit(0);
};
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
