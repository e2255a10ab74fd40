/**
 * A successful (2xx) answer of the model server that is not a chat completion: empty, not JSON, cut off, or an error
 * object sent with status 200 (some gateways do that). Transient as a rule; `status` is set when the body names one,
 * so a permanent error in disguise (a 400 or 404 inside a 200) is not retried.
 */
export class MalformedReplyError extends Error {
  readonly status: number | null;

  constructor(message: string, options: { status?: number | null; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = this.constructor.name;
    this.status = options.status ?? null;
  }
}

type Fetch = typeof globalThis.fetch;

/**
 * A `fetch` for the OpenAI client that reads a successful chat completion to its end and checks it before the client
 * sees it. Reading it inside `fetch` puts the body under the client's request timeout (the SDK stops its timer once
 * the headers are in, so a server that stalls mid-body would otherwise hang the run), turns a dropped connection
 * into the SDK's connection error, and replaces the SDK's and LangChain's accidental errors for odd bodies (a bare
 * `SyntaxError`, or a `TypeError` when there are no choices) with one precise `MalformedReplyError`.
 */
export function checkedFetch(inner: Fetch = globalThis.fetch): Fetch {
  return async (input, init) => {
    const response = await inner(input, init);
    const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
    const method = (init?.method ?? (input instanceof Request ? input.method : 'GET')).toUpperCase();
    if (method !== 'POST' || !/\/chat\/completions\/?(\?|$)/.test(url)) return response;
    if (!response.ok || response.status === 204) return response;
    if ((response.headers.get('content-type') ?? '').includes('text/event-stream')) return response;
    const text = await response.text();
    const problem = problemOf(text, response.status);
    if (problem) throw problem;
    const headers = new Headers(response.headers);
    // The text is already decoded and complete: these would describe the bytes on the wire, not this body.
    headers.delete('content-length');
    headers.delete('content-encoding');
    return new Response(text, { status: response.status, statusText: response.statusText, headers });
  };
}

const SNIPPET_CHARS = 120;

/** What is wrong with a 2xx chat completion body, or null when it is one. */
export function problemOf(text: string, status = 200): MalformedReplyError | null {
  const said = `the model server answered HTTP ${status}`;
  if (text.trim() === '') return new MalformedReplyError(`${said} with an empty body`);
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch (err) {
    return new MalformedReplyError(
      `${said} with a body that is not valid JSON (${(err as Error).message}; ${text.length} bytes: ${snippet(text)})`,
      { cause: err },
    );
  }
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    return new MalformedReplyError(`${said} with JSON that is not an object: ${snippet(text)}`);
  }
  const error = (body as { error?: unknown }).error;
  if (error !== undefined && error !== null) {
    const e = (typeof error === 'object' ? error : { message: error }) as { message?: unknown; code?: unknown };
    const message = typeof e.message === 'string' ? e.message : snippet(JSON.stringify(error));
    const code = Number(e.code);
    return new MalformedReplyError(`${said} with an error: ${message.slice(0, 300)}`, {
      status: Number.isInteger(code) && code >= 400 && code <= 599 ? code : null,
    });
  }
  const choices = (body as { choices?: unknown }).choices;
  if (!Array.isArray(choices) || choices.length === 0) {
    return new MalformedReplyError(`${said} with a JSON body without choices: ${snippet(text)}`);
  }
  return null;
}

const snippet = (text: string): string => {
  const line = text.replace(/\s+/g, ' ').trim();
  return line.length > SNIPPET_CHARS ? `${line.slice(0, SNIPPET_CHARS)}…` : line;
};
