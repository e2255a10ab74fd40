import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FakeLiteratureServerOptions {
  /** Answer the first N requests (to either API) with 429 and `Retry-After: 1`. @defaultValue 0 */
  rateLimitFirst?: number;
  /** Answer every request with this HTTP status (after any rate-limited ones). */
  failWith?: number;
}

/** One request the server received. */
export interface FakeLiteratureRequest {
  /** e.g. `/semantic-scholar/graph/v1/paper/search` or `/openalex/works`. */
  path: string;
  /** The search text: Semantic Scholar's `query` or OpenAlex's `search` parameter. */
  query: string;
  /** Every query-string parameter as sent. */
  params: Record<string, string>;
  /** The `x-api-key` header, if any. */
  apiKey: string | null;
}

export interface FakeLiteratureServer {
  /** Base URL for a Semantic Scholar client: it appends `/graph/v1/paper/search`. */
  semanticScholarUrl: string;
  /** Base URL for an OpenAlex client: it appends `/works`. */
  openAlexUrl: string;
  requests: FakeLiteratureRequest[];
  close(): Promise<void>;
}

/**
 * A real published paper. Titles, authors, years, venues and identifiers are the published ones; `summary` is a short
 * description written for this server (not the published abstract), `keywords` only widen what queries match, and
 * `citations` are round figures for ranking, not a snapshot of either service.
 */
interface CorpusPaper {
  title: string;
  authors: string[];
  year: number;
  venue: string;
  doi?: string;
  arxiv?: string;
  summary: string;
  keywords: string;
  citations: number;
}

const CORPUS: CorpusPaper[] = [
  {
    title: 'Adam: A Method for Stochastic Optimization',
    authors: ['Diederik P. Kingma', 'Jimmy Ba'],
    year: 2015,
    venue: 'International Conference on Learning Representations',
    arxiv: '1412.6980',
    summary:
      'An algorithm for first-order gradient-based optimization of stochastic objective functions based on adaptive estimates of lower-order moments of the gradients.',
    keywords: 'adaptive learning rate optimizer momentum stochastic gradient descent sgd convergence',
    citations: 150000,
  },
  {
    title: 'Batch Normalization: Accelerating Deep Network Training by Reducing Internal Covariate Shift',
    authors: ['Sergey Ioffe', 'Christian Szegedy'],
    year: 2015,
    venue: 'International Conference on Machine Learning',
    arxiv: '1502.03167',
    summary:
      'Normalizing layer inputs over each mini-batch reduces internal covariate shift, allows much higher learning rates and makes training less sensitive to initialization.',
    keywords: 'normalization normalize normalized activations standardization input scaling training speed',
    citations: 50000,
  },
  {
    title: 'Dropout: A Simple Way to Prevent Neural Networks from Overfitting',
    authors: ['Nitish Srivastava', 'Geoffrey Hinton', 'Alex Krizhevsky', 'Ilya Sutskever', 'Ruslan Salakhutdinov'],
    year: 2014,
    venue: 'Journal of Machine Learning Research',
    summary:
      'Randomly dropping units and their connections during training prevents co-adaptation of units and reduces overfitting.',
    keywords: 'regularization overfitting generalization ensemble',
    citations: 45000,
  },
  {
    title: 'Understanding the difficulty of training deep feedforward neural networks',
    authors: ['Xavier Glorot', 'Yoshua Bengio'],
    year: 2010,
    venue: 'International Conference on Artificial Intelligence and Statistics',
    summary:
      'Studies why deep feedforward networks are hard to train with standard gradient descent from random initialization, and proposes an initialization scheme that keeps activation and gradient variances stable across layers.',
    keywords: 'initialization xavier weight variance saturation activation sigmoid tanh vanishing gradients',
    citations: 25000,
  },
  {
    title: 'Efficient BackProp',
    authors: ['Yann LeCun', 'Léon Bottou', 'Genevieve B. Orr', 'Klaus-Robert Müller'],
    year: 1998,
    venue: 'Neural Networks: Tricks of the Trade',
    doi: '10.1007/3-540-49430-8_2',
    summary:
      'Practical tricks for training networks with backpropagation: shuffling examples, normalizing the inputs to zero mean and unit variance, choosing targets and initial weights, and why the conditioning of the Hessian governs how fast gradient descent converges.',
    keywords:
      'input normalization feature scaling standardization whitening conditioning condition number hessian eigenvalues learning rate convergence preprocessing',
    citations: 6000,
  },
  {
    title: 'On Calibration of Modern Neural Networks',
    authors: ['Chuan Guo', 'Geoff Pleiss', 'Yu Sun', 'Kilian Q. Weinberger'],
    year: 2017,
    venue: 'International Conference on Machine Learning',
    arxiv: '1706.04599',
    summary:
      'Modern deep networks are poorly calibrated; temperature scaling, a single-parameter variant of Platt scaling, is a simple and effective way to calibrate their predicted probabilities.',
    keywords: 'calibration calibrated confidence temperature scaling expected calibration error ece probabilities',
    citations: 6000,
  },
  {
    title: 'Rethinking the Inception Architecture for Computer Vision',
    authors: ['Christian Szegedy', 'Vincent Vanhoucke', 'Sergey Ioffe', 'Jonathon Shlens', 'Zbigniew Wojna'],
    year: 2016,
    venue: 'IEEE Conference on Computer Vision and Pattern Recognition',
    doi: '10.1109/CVPR.2016.308',
    arxiv: '1512.00567',
    summary:
      'Scales up convolutional networks efficiently through factorized convolutions and aggressive regularization, and introduces label smoothing regularization of the targets.',
    keywords: 'label smoothing regularization inception imagenet convolutional classification',
    citations: 25000,
  },
  {
    title: 'Probabilistic Outputs for Support Vector Machines and Comparisons to Regularized Likelihood Methods',
    authors: ['John C. Platt'],
    year: 1999,
    venue: 'Advances in Large Margin Classifiers',
    summary:
      'Fits a sigmoid to the outputs of a support vector machine to map them to posterior probabilities (Platt scaling).',
    keywords: 'platt scaling calibration probabilities svm sigmoid posterior',
    citations: 7000,
  },
  {
    title: 'Optimization Methods for Large-Scale Machine Learning',
    authors: ['Léon Bottou', 'Frank E. Curtis', 'Jorge Nocedal'],
    year: 2018,
    venue: 'SIAM Review',
    doi: '10.1137/16M1080173',
    arxiv: '1606.04838',
    summary:
      'A review of optimization methods for machine learning centred on stochastic gradient methods: their convergence theory, noise reduction and second-order methods, and the role of problem conditioning.',
    keywords: 'stochastic gradient descent sgd convergence rate conditioning second order optimization scaling',
    citations: 4000,
  },
  {
    title: 'Deep Residual Learning for Image Recognition',
    authors: ['Kaiming He', 'Xiangyu Zhang', 'Shaoqing Ren', 'Jian Sun'],
    year: 2016,
    venue: 'IEEE Conference on Computer Vision and Pattern Recognition',
    doi: '10.1109/CVPR.2016.90',
    arxiv: '1512.03385',
    summary:
      'Residual connections let very deep convolutional networks be trained by learning residual functions with reference to the layer inputs.',
    keywords: 'resnet residual skip connections depth image classification imagenet',
    citations: 200000,
  },
  {
    title: 'Learning representations by back-propagating errors',
    authors: ['David E. Rumelhart', 'Geoffrey E. Hinton', 'Ronald J. Williams'],
    year: 1986,
    venue: 'Nature',
    doi: '10.1038/323533a0',
    summary: 'Describes back-propagation, a procedure that trains networks of neuron-like units by gradient descent.',
    keywords: 'backpropagation gradient descent hidden units',
    citations: 30000,
  },
  {
    title: 'Layer Normalization',
    authors: ['Jimmy Lei Ba', 'Jamie Ryan Kiros', 'Geoffrey E. Hinton'],
    year: 2016,
    venue: 'arXiv.org',
    arxiv: '1607.06450',
    summary:
      'Normalizes the summed inputs to the neurons of a layer using statistics computed per training case, which works for recurrent networks and does not depend on the mini-batch.',
    keywords: 'normalization normalize recurrent training speed',
    citations: 10000,
  },
  {
    title: 'Decoupled Weight Decay Regularization',
    authors: ['Ilya Loshchilov', 'Frank Hutter'],
    year: 2019,
    venue: 'International Conference on Learning Representations',
    arxiv: '1711.05101',
    summary:
      'Shows that L2 regularization and weight decay are not equivalent for adaptive gradient methods such as Adam, and decouples weight decay from the gradient update (AdamW).',
    keywords: 'adamw weight decay regularization adam optimizer generalization',
    citations: 10000,
  },
];

/** Both services hold preprint and proceedings records of one paper; the client is expected to merge them. */
const DUPLICATES: CorpusPaper[] = [
  {
    ...(CORPUS[1] as CorpusPaper),
    venue: 'arXiv.org',
    citations: 1000,
  },
];

const STOPWORDS = new Set(
  'a an and are as at by for from how in into is of on or the to with without via does do using use based deep neural network networks learning model models method methods effect effects'.split(
    ' ',
  ),
);

const PAPERS = [...CORPUS, ...DUPLICATES].map((paper, index) => ({ paper, index, words: stems(searchText(paper)) }));

const SEMANTIC_SCHOLAR_PREFIX = '/semantic-scholar';
const OPENALEX_PREFIX = '/openalex';
const SEMANTIC_SCHOLAR_FIELDS = [
  'paperId',
  'title',
  'authors',
  'year',
  'venue',
  'abstract',
  'externalIds',
  'url',
  'citationCount',
];

/**
 * Starts a local stand-in for the Semantic Scholar Graph API and OpenAlex: both search endpoints, in their real
 * response shapes, over a small corpus of well-known machine learning papers.
 */
export async function startFakeLiteratureServer(
  options: FakeLiteratureServerOptions = {},
): Promise<FakeLiteratureServer> {
  const requests: FakeLiteratureRequest[] = [];
  let rateLimitLeft = options.rateLimitFirst ?? 0;
  const http: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const params = Object.fromEntries(url.searchParams);
    const apiKey = req.headers['x-api-key'];
    requests.push({
      path: url.pathname,
      query: url.searchParams.get('query') ?? url.searchParams.get('search') ?? '',
      params,
      apiKey: typeof apiKey === 'string' ? apiKey : null,
    });
    if (rateLimitLeft > 0) {
      rateLimitLeft--;
      send(res, 429, { message: 'Too Many Requests. Please wait and try again.', code: '429' }, { 'retry-after': '1' });
      return;
    }
    if (options.failWith !== undefined) {
      send(res, options.failWith, { message: `fake failure ${options.failWith}` });
      return;
    }
    answer(req, res, url);
  });
  await new Promise<void>((resolve, reject) => {
    http.once('error', reject);
    http.listen(0, '127.0.0.1', () => {
      http.off('error', reject);
      resolve();
    });
  });
  const base = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
  return {
    semanticScholarUrl: `${base}${SEMANTIC_SCHOLAR_PREFIX}`,
    openAlexUrl: `${base}${OPENALEX_PREFIX}`,
    requests,
    async close() {
      http.closeAllConnections();
      await new Promise<void>((resolve) => http.close(() => resolve()));
    },
  };
}

function answer(req: IncomingMessage, res: ServerResponse, url: URL): void {
  if (req.method !== 'GET') {
    send(res, 405, { error: 'Method Not Allowed' });
  } else if (url.pathname === `${SEMANTIC_SCHOLAR_PREFIX}/graph/v1/paper/search`) {
    const query = url.searchParams.get('query');
    if (!query) {
      send(res, 400, { error: "Missing required parameter: 'query'" });
      return;
    }
    const limit = clampInt(url.searchParams.get('limit'), 100, 100);
    const fields = new Set((url.searchParams.get('fields') ?? 'title').split(',').map((f) => f.trim()));
    const matches = search(query);
    send(res, 200, {
      total: matches.length,
      offset: 0,
      ...(matches.length > limit ? { next: limit } : {}),
      data: matches.slice(0, limit).map((m) => semanticScholarPaper(m.paper, m.index, fields)),
    });
  } else if (url.pathname === `${OPENALEX_PREFIX}/works`) {
    const query = url.searchParams.get('search') ?? '';
    const perPage = clampInt(url.searchParams.get('per-page'), 25, 200);
    const matches = query ? search(query) : PAPERS;
    send(res, 200, {
      meta: { count: matches.length, db_response_time_ms: 3, page: 1, per_page: perPage, groups_count: null },
      results: matches.slice(0, perPage).map((m) => openAlexWork(m.paper, m.index)),
      group_by: [],
    });
  } else {
    send(res, 404, { error: 'Not Found', message: `no route for ${url.pathname}` });
  }
}

function semanticScholarPaper(paper: CorpusPaper, index: number, fields: Set<string>): Record<string, unknown> {
  const paperId = fakeId('s2', index, 40);
  const full: Record<string, unknown> = {
    paperId,
    externalIds: {
      ...(paper.doi ? { DOI: paper.doi } : {}),
      ...(paper.arxiv ? { ArXiv: paper.arxiv } : {}),
      CorpusId: 1_000_000 + index,
    },
    url: `https://www.semanticscholar.org/paper/${paperId}`,
    title: paper.title,
    abstract: paper.summary,
    venue: paper.venue,
    year: paper.year,
    citationCount: paper.citations,
    authors: paper.authors.map((name, i) => ({ authorId: String(2_000_000 + index * 10 + i), name })),
  };
  // The real API always sends paperId and only the requested fields besides.
  return Object.fromEntries(
    Object.entries(full).filter(
      ([key]) => key === 'paperId' || (fields.has(key) && SEMANTIC_SCHOLAR_FIELDS.includes(key)),
    ),
  );
}

function openAlexWork(paper: CorpusPaper, index: number): Record<string, unknown> {
  const doiUrl = paper.doi ? `https://doi.org/${paper.doi.toLowerCase()}` : null;
  const landing = doiUrl ?? (paper.arxiv ? `https://arxiv.org/abs/${paper.arxiv}` : null);
  return {
    id: `https://openalex.org/W${3_000_000_000 + index}`,
    doi: doiUrl,
    title: paper.title,
    display_name: paper.title,
    publication_year: paper.year,
    type: 'article',
    primary_location: {
      is_oa: paper.arxiv !== undefined,
      landing_page_url: landing,
      source: { id: `https://openalex.org/S${4_000_000 + index}`, display_name: paper.venue, type: 'journal' },
    },
    authorships: paper.authors.map((name, i) => ({
      author_position: i === 0 ? 'first' : i === paper.authors.length - 1 ? 'last' : 'middle',
      author: { id: `https://openalex.org/A${5_000_000_000 + index * 10 + i}`, display_name: name, orcid: null },
      institutions: [],
    })),
    cited_by_count: paper.citations,
    abstract_inverted_index: invertedIndex(paper.summary),
  };
}

function invertedIndex(text: string): Record<string, number[]> {
  const index: Record<string, number[]> = {};
  text.split(/\s+/).forEach((word, position) => {
    if (!Object.hasOwn(index, word)) index[word] = [];
    index[word]?.push(position);
  });
  return index;
}

/** Ranks papers by how many distinct query words they contain; generic words match nothing. */
function search(query: string): typeof PAPERS {
  const wanted = stems(query);
  return PAPERS.map((p) => ({ p, score: [...wanted].filter((w) => p.words.has(w)).length }))
    .filter((m) => m.score > 0)
    .sort((a, b) => b.score - a.score || b.p.paper.citations - a.p.paper.citations)
    .map((m) => m.p);
}

/** Five-letter prefixes, so `normalization`, `normalize` and `normalized` all meet. */
function stems(text: string): Set<string> {
  const words = text
    .toLowerCase()
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .split(/[^a-z0-9]+/)
    .filter((w) => w.length > 1 && !STOPWORDS.has(w));
  return new Set(words.map((w) => w.slice(0, 5)));
}

function searchText(paper: CorpusPaper): string {
  return `${paper.title} ${paper.summary} ${paper.keywords} ${paper.authors.join(' ')} ${paper.venue}`;
}

function fakeId(salt: string, index: number, length: number): string {
  return createHash('sha1').update(`${salt}:${index}`).digest('hex').slice(0, length);
}

function clampInt(raw: string | null, fallback: number, max: number): number {
  const n = raw === null ? Number.NaN : Number.parseInt(raw, 10);
  return Number.isFinite(n) && n > 0 ? Math.min(n, max) : fallback;
}

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}
