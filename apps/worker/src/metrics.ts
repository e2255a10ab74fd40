import { createServer, type Server } from 'node:http';
import type { NewEvent, RunStatus } from '@autolab/contracts';
import type { Llm, RunSink, ToolCallRequest, ToolCallResult } from '@autolab/engine';
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

/**
 * What a worker measures, in Prometheus' format (prom-client), served on AUTOLAB_WORKER_METRICS_PORT: model calls
 * (latency, tokens, cost per model), experiments (duration, outcome), runs (outcome, failure code), errors and
 * warnings by code, the live runs. One registry per worker, so several workers in one process (tests) do not mix.
 */
export class WorkerMetrics {
  readonly registry = new Registry();
  private readonly modelCallSeconds = new Histogram({
    name: 'autolab_model_call_seconds',
    help: 'Model calls, from request to validated reply (retries included), by model, role and outcome.',
    labelNames: ['model', 'role', 'outcome'],
    buckets: [0.5, 1, 2, 5, 10, 20, 40, 80, 160],
    registers: [this.registry],
  });
  private readonly modelTokens = new Counter({
    name: 'autolab_model_tokens_total',
    help: 'Tokens the model calls used, by model and kind (prompt, completion; cached: the prompt tokens a prefix cache served, part of prompt).',
    labelNames: ['model', 'kind'],
    registers: [this.registry],
  });
  private readonly modelCost = new Counter({
    name: 'autolab_model_cost_usd_total',
    help: 'Cost of the model calls in USD, by model (0 for a model without a price).',
    labelNames: ['model'],
    registers: [this.registry],
  });
  private readonly nodeSeconds = new Histogram({
    name: 'autolab_node_seconds',
    help: 'Experiments, from node.created to node.finished, by outcome (ok, buggy).',
    labelNames: ['outcome'],
    buckets: [2, 5, 10, 30, 60, 120, 300, 600, 1800],
    registers: [this.registry],
  });
  private readonly events = new Counter({
    name: 'autolab_run_events_total',
    help: 'Error and warning events of runs, by type and code.',
    labelNames: ['type', 'code'],
    registers: [this.registry],
  });
  private readonly runs = new Counter({
    name: 'autolab_runs_finished_total',
    help: 'Runs this worker finished, by status and failure code ("" when none).',
    labelNames: ['status', 'code'],
    registers: [this.registry],
  });
  private readonly runSeconds = new Histogram({
    name: 'autolab_run_attempt_seconds',
    help: "Run attempts on this worker, from start to end, by status ('interrupted': handed back or cancelled).",
    labelNames: ['status'],
    buckets: [30, 60, 300, 600, 1800, 3600, 7200, 21600],
    registers: [this.registry],
  });

  private readonly poolTakes = new Counter({
    name: 'autolab_sandbox_pool_takes_total',
    help: 'Experiment sandboxes runs asked the warm pool for, by result (hit: a warm one was ready; miss: the run started one).',
    labelNames: ['result'],
    registers: [this.registry],
  });

  /**
   * `liveRuns`: how many runs the worker is running now; `warmIdle`: idle sandboxes in its warm pool (both read at
   * each scrape).
   */
  constructor(liveRuns: () => number, warmIdle: () => number = () => 0) {
    collectDefaultMetrics({ register: this.registry, prefix: 'autolab_worker_' });
    new Gauge({
      name: 'autolab_worker_live_runs',
      help: 'Runs this worker is running now.',
      registers: [this.registry],
      collect() {
        this.set(liveRuns());
      },
    });
    new Gauge({
      name: 'autolab_sandbox_pool_idle',
      help: "Idle sandboxes in the worker's warm pool.",
      registers: [this.registry],
      collect() {
        this.set(warmIdle());
      },
    });
    // Both results exist from the start, so a rate over them is defined before the first run.
    this.poolTakes.inc({ result: 'hit' }, 0);
    this.poolTakes.inc({ result: 'miss' }, 0);
  }

  /** A run asked the warm pool for an experiment sandbox. */
  poolTake(hit: boolean): void {
    this.poolTakes.inc({ result: hit ? 'hit' : 'miss' });
  }

  /** The run's model port, timed and counted. */
  meteredLlm(llm: Llm): Llm {
    return {
      callTool: async (request: ToolCallRequest, signal: AbortSignal): Promise<ToolCallResult> => {
        const end = this.modelCallSeconds.startTimer({ role: request.role });
        try {
          const result = await llm.callTool(request, signal);
          end({ model: result.usage.model, outcome: result.ok ? 'ok' : 'unusable' });
          this.modelTokens.inc({ model: result.usage.model, kind: 'prompt' }, result.usage.promptTokens);
          this.modelTokens.inc({ model: result.usage.model, kind: 'completion' }, result.usage.completionTokens);
          this.modelTokens.inc({ model: result.usage.model, kind: 'cached' }, result.usage.cachedTokens);
          this.modelCost.inc({ model: result.usage.model }, result.usage.costUsd);
          return result;
        } catch (err) {
          end({ model: '', outcome: 'failed' });
          throw err;
        }
      },
    };
  }

  /** The run's sink, with its events observed (experiment durations, errors and warnings). */
  meteredSink(sink: RunSink): RunSink {
    const started = new Map<string, number>();
    return {
      emit: async (event: NewEvent) => {
        await sink.emit(event);
        if (event.type === 'node.created') started.set(event.data.nodeId, Date.now());
        if (event.type === 'node.finished') {
          const at = started.get(event.data.nodeId);
          started.delete(event.data.nodeId);
          const seconds = at === undefined ? event.data.durationMs / 1000 : (Date.now() - at) / 1000;
          this.nodeSeconds.observe({ outcome: event.data.buggy ? 'buggy' : 'ok' }, seconds);
        }
        if (event.type === 'error' || event.type === 'warning')
          this.events.inc({ type: event.type, code: event.data.code });
      },
      progress: (progress) => sink.progress(progress),
      saveCheckpoint: (checkpoint) => sink.saveCheckpoint(checkpoint),
      saveArtifact: (path, content) => sink.saveArtifact(path, content),
      loadArtifact: (path) => sink.loadArtifact(path),
    };
  }

  runEnded(status: RunStatus | 'interrupted', code: string | null, seconds: number): void {
    if (status !== 'interrupted') this.runs.inc({ status, code: code ?? '' });
    this.runSeconds.observe({ status }, seconds);
  }

  /** Serves the metrics at GET /metrics on `host:port` (0: a free port). */
  async serve(host: string, port: number): Promise<{ url: string; close(): Promise<void> }> {
    const server: Server = createServer((req, res) => {
      if (req.method !== 'GET' || req.url?.split('?')[0] !== '/metrics') {
        res.writeHead(404, { 'content-type': 'text/plain' }).end('GET /metrics\n');
        return;
      }
      this.registry.metrics().then(
        (text) => res.writeHead(200, { 'content-type': this.registry.contentType }).end(text),
        () => res.writeHead(500).end(),
      );
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => resolve());
    });
    const address = server.address() as { port: number };
    return {
      url: `http://${host}:${address.port}/metrics`,
      close: () => new Promise<void>((resolve) => server.close(() => resolve())),
    };
  }
}
