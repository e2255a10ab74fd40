/**
 * The run's model transcript (`transcript.jsonl`, one JSON line per model call, written by the worker with secrets
 * removed): parsed defensively (a line cut short by a crash or an unknown shape is skipped, never fatal) into what
 * the dashboard shows as text. Nothing of it is ever rendered as HTML.
 */
export interface ModelCall {
  /** Position in the transcript (a stable key). */
  index: number;
  at: string;
  purpose: string;
  /** The experiment the call served; absent for calls of the run as a whole (ideas, paper, review). */
  nodeId: string | null;
  model: string;
  mode: string;
  system: string;
  prompt: string;
  tools: string[];
  /** The tool the model called, or null when the reply was unusable. */
  tool: string | null;
  /** What the model answered: the tool call's arguments as JSON, else its text. */
  reply: string;
  error: string | null;
  promptTokens: number;
  completionTokens: number;
  cachedTokens: number;
  costUsd: number;
  estimated: boolean;
  attempts: number;
  /** On a re-ask: why the previous reply was unusable. */
  retryOf: string | null;
}

const str = (v: unknown, fallback = ''): string => (typeof v === 'string' ? v : fallback);
const num = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) ? v : 0);

export function parseTranscript(text: string): ModelCall[] {
  const calls: ModelCall[] = [];
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    let entry: Record<string, unknown>;
    try {
      entry = JSON.parse(line) as Record<string, unknown>;
    } catch {
      continue;
    }
    if (!entry || typeof entry !== 'object' || typeof entry.purpose !== 'string') continue;
    const reply = (entry.reply ?? {}) as Record<string, unknown>;
    const usage = (entry.usage ?? {}) as Record<string, unknown>;
    const args = reply.arguments;
    calls.push({
      index: calls.length,
      at: str(entry.at),
      purpose: entry.purpose,
      nodeId: typeof entry.nodeId === 'string' ? entry.nodeId : null,
      model: str(entry.model, str(usage.model)),
      mode: str(entry.mode),
      system: str(entry.system),
      prompt: str(entry.prompt),
      tools: Array.isArray(entry.tools) ? entry.tools.filter((t): t is string => typeof t === 'string') : [],
      tool: typeof reply.tool === 'string' ? reply.tool : null,
      reply: args !== null && args !== undefined ? JSON.stringify(args, null, 2) : str(reply.content),
      error: typeof reply.error === 'string' ? reply.error : null,
      promptTokens: num(usage.promptTokens),
      completionTokens: num(usage.completionTokens),
      cachedTokens: num(usage.cachedTokens),
      costUsd: num(usage.costUsd),
      estimated: usage.estimated === true,
      attempts: num(entry.attempts) || 1,
      retryOf: typeof entry.retryOf === 'string' ? entry.retryOf : null,
    });
  }
  return calls;
}

/** Tokens and cost of some calls together. */
export function callTotals(calls: readonly ModelCall[]): { tokens: number; costUsd: number } {
  return calls.reduce(
    (t, c) => ({ tokens: t.tokens + c.promptTokens + c.completionTokens, costUsd: t.costUsd + c.costUsd }),
    { tokens: 0, costUsd: 0 },
  );
}
