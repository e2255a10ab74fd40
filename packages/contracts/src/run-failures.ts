/**
 * Every code a failed run's `error.code` can carry, with what it means, in one place. The engine, the worker and
 * clients use these codes; the table in docs/api.md is generated from this catalog (`npm run generate`).
 */
export const RUN_FAILURES = {
  budget_exhausted: 'the budget was spent before the model proposed any idea',
  no_idea: 'no valid `propose_ideas` reply in 4 tries',
  model_unusable: '5 unusable model replies in a row (not a valid tool call) during the experiments',
  no_successful_experiment:
    "no node produced the primary metric; the nodes' code and outputs are still in the artifacts",
  program_invalid:
    'evolve mode: the program cannot be evolved (its EVOLVE-BLOCK markers are unbalanced or nested, it is not UTF-8 text, or it is over 1 MB)',
  initial_program_failed:
    'evolve mode: the program as uploaded did not pass its evaluator (the message has the evaluator’s error); evolution needs a correct start',
  paper_compile_failed: 'even the generated fallback paper did not compile; see `paper/paper.log`',
  llm_unavailable:
    'the model endpoint failed after all retries, or with an error that retrying cannot fix (401, 404, …)',
  input_missing: 'an upload the run names as an input no longer exists (deleted before the run started)',
  sandbox_image_unknown:
    "the run names a sandbox image that this worker's `AUTOLAB_SANDBOX_IMAGES` does not register (configure the API and every worker alike)",
  sandbox_error: 'Docker refused something for this run (image missing, container create failed, …)',
  docker_unavailable:
    'Docker stayed unreachable (socket gone, connection refused or reset, 5xx) for longer than `AUTOLAB_DOCKER_RETRY_SECONDS`; the run removes its containers once Docker is back',
  artifact_store_unavailable:
    "the artifact store (S3) stayed unreachable, or refused the worker's credentials, for longer than `AUTOLAB_S3_RETRY_SECONDS`; the files stored before it went away stay stored",
  time_limit: 'still running 5 min after the time limit',
  worker_error:
    'the worker could not finish the run itself (Redis trouble at the end, a job stalled more than 10 times)',
  internal_error: 'anything else: a bug; the message says what happened',
} as const satisfies Record<string, string>;

export type RunFailureCode = keyof typeof RUN_FAILURES;

/** The `error` of a failed run, with its code checked against the catalog. */
export function runFailure(code: RunFailureCode, message: string): { code: RunFailureCode; message: string } {
  return { code, message };
}
