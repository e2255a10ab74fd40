import { randomBytes } from 'node:crypto';
import { readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import type { ArtifactEntry, RunRecord, UploadRecord } from '@autolab/contracts';
import { ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type S3Server, startS3Server } from '../s3-server.js';
import { api, authHeaders, readSse, type Stack, startStack, submitRun, waitForStatus } from '../stack.js';
import { exportIrisCsv, untar } from '../test-resources.js';

/**
 * A whole run with AUTOLAB_ARTIFACTS_URL=s3://…: its data is an upload, whose files the API streams to the bucket and
 * the worker downloads into scratch space for the sandbox; the worker writes every file of the run to an S3-protocol
 * server over HTTP, the API lists, serves and archives them from there, and nothing of the upload or the run stays in
 * the local data directory, though the S3 server was away for a moment mid-run. Then it goes away for longer: the API answers 503 `artifact_store_unavailable`, a run
 * fails with the run failure of that name, and what was stored before is all there once the server is back.
 */
// Two experiments at most, then figures and a short paper (the first run uses the inputs scenario, the outage run the
// demo one).
const SMALL_RUN = {
  model: 'demo',
  maxIterations: 2,
  seeds: 0,
  search: { numDrafts: 1 },
  review: { reviewers: 0 },
  ideation: { numIdeas: 1, reflections: 0 },
};

let s3: S3Server;
let stack: Stack;
let run: RunRecord;
let upload: UploadRecord;
const keyPrefix = `e2e-${randomBytes(4).toString('hex')}`;

const download = async (path: string) => {
  const res = await fetch(`${stack.apiUrl}${path}`, { headers: authHeaders(stack) });
  return { status: res.status, headers: res.headers, body: Buffer.from(await res.arrayBuffer()) };
};

describe('artifacts on S3 end to end', () => {
  beforeAll(async () => {
    s3 = await startS3Server();
    const env = { ...s3.env(keyPrefix), AUTOLAB_S3_RETRY_SECONDS: '3' };
    stack = await startStack({ apiEnv: env, workerEnv: env });
    const form = new FormData();
    form.append('file', new Blob([await exportIrisCsv()]), 'iris.csv');
    const uploaded = await fetch(`${stack.apiUrl}/v1/uploads`, {
      method: 'POST',
      headers: authHeaders(stack),
      body: form,
    });
    expect(uploaded.status).toBe(201);
    upload = (await uploaded.json()) as UploadRecord;
    // The inputs scenario's experiment reads /workspace/input/data/iris.csv and reports the accuracy of a rule on it.
    run = await submitRun(stack, {
      goal: 'How well does one sepal-length threshold separate setosa in the uploaded table?',
      ...SMALL_RUN,
      model: 'inputs',
      inputs: { data: upload.id },
    });
    // A short outage as the first experiment starts (the worker is storing its code, then its outputs and transcript
    // chunks): the worker waits it out (AUTOLAB_S3_RETRY_SECONDS=3 here), and the run finishes as if nothing happened.
    await readSse(stack, run.id, { stopWhen: (e) => e.type === 'node.created', timeoutMs: 120_000 });
    await s3.stop();
    await new Promise((r) => setTimeout(r, 1_500));
    await s3.start();
    run = await waitForStatus(stack, run.id, ['succeeded', 'failed'], 240_000);
  }, 300_000);

  afterAll(async () => {
    await stack?.close();
    await s3?.close();
  });

  it('serves the files, the paper and the archive from S3, and keeps nothing of the run or its upload on local disk', async () => {
    expect(run.status, JSON.stringify(run.error)).toBe('succeeded');
    // The experiment read the upload (downloaded from the bucket into the sandbox).
    expect(run.bestMetric?.name).toBe('accuracy');
    expect(run.bestMetric?.value).toBeGreaterThan(0.5);
    const listed = await api<{ artifacts: ArtifactEntry[] }>(stack, `/v1/runs/${run.id}/artifacts`);
    expect(listed.status).toBe(200);
    const paths = listed.body.artifacts.map((a) => a.path);
    for (const path of ['paper/paper.pdf', 'paper/paper.tex', 'plan.json', 'manifest.json', 'transcript.jsonl'])
      expect(paths, path).toContain(path);
    expect(paths.some((p) => /^nodes\/n\d+\/experiment\.py$/.test(p))).toBe(true);

    const pdf = await download(`/v1/runs/${run.id}/artifacts/paper/paper.pdf`);
    expect(pdf.status).toBe(200);
    expect(pdf.headers.get('content-type')).toBe('application/pdf');
    expect(pdf.body.subarray(0, 5).toString()).toBe('%PDF-');
    expect(pdf.body.length).toBe(listed.body.artifacts.find((a) => a.path === 'paper/paper.pdf')!.size);

    // The transcript is stored as chunk objects and read back as one file: one JSON line per model call.
    const transcript = await download(`/v1/runs/${run.id}/artifacts/transcript.jsonl`);
    const lines = transcript.body.toString('utf8').trim().split('\n');
    expect(lines.length).toBe(stack.scripted.callsFor(run.id).length);
    for (const line of lines) JSON.parse(line);

    const archive = await download(`/v1/runs/${run.id}/archive`);
    expect(archive.status).toBe(200);
    const files = untar(gunzipSync(archive.body));
    expect(files.get(`${run.id}/paper/paper.pdf`)?.equals(pdf.body)).toBe(true);
    expect(files.get(`${run.id}/transcript.jsonl`)?.equals(transcript.body)).toBe(true);
    expect(files.size).toBe(paths.length);

    const raw = new S3Client({
      region: 'us-east-1',
      endpoint: s3.endpoint,
      forcePathStyle: true,
      credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey },
    });
    const objects = await raw.send(new ListObjectsV2Command({ Bucket: s3.bucket, Prefix: `${keyPrefix}/${run.id}/` }));
    const keys = (objects.Contents ?? []).map((o) => o.Key!);
    expect(keys).toContain(`${keyPrefix}/${run.id}/paper/paper.pdf`);
    expect(keys.filter((k) => k.includes('/~chunks/transcript.jsonl/')).length).toBeGreaterThan(0);
    const uploadObjects = await raw.send(
      new ListObjectsV2Command({ Bucket: s3.bucket, Prefix: `${keyPrefix}/uploads/${upload.id}/` }),
    );
    expect((uploadObjects.Contents ?? []).map((o) => [o.Key, o.Size])).toEqual([
      [`${keyPrefix}/uploads/${upload.id}/iris.csv`, upload.files[0]!.size],
    ]);
    raw.destroy();

    // The data directory holds no artifacts and no upload (drafts are gone once committed), and the worker's scratch
    // copy of the upload is gone with the run.
    for (const dir of ['artifacts', 'uploads'])
      expect(await readdir(join(stack.dataDir, dir)).catch(() => []), dir).toEqual([]);
    expect((await readdir(tmpdir())).filter((name) => name.startsWith(`autolab-inputs-${run.id}`))).toEqual([]);
  });

  it('S3 unreachable: 503 artifact_store_unavailable from the API, the run fails with that code, nothing stored is lost', async () => {
    const before = (await api<{ artifacts: ArtifactEntry[] }>(stack, `/v1/runs/${run.id}/artifacts`)).body.artifacts;
    await s3.stop();
    try {
      for (const path of [
        `/v1/runs/${run.id}/artifacts`,
        `/v1/runs/${run.id}/artifacts/paper/paper.pdf`,
        `/v1/runs/${run.id}/archive`,
      ]) {
        const res = await api<{ error: { code: string; message: string } }>(stack, path);
        expect(res.status, path).toBe(503);
        expect(res.body.error.code).toBe('artifact_store_unavailable');
        expect(res.headers.get('retry-after')).toBe('5');
      }
      // Redis is fine: the run itself is still served.
      expect((await api(stack, `/v1/runs/${run.id}`)).status).toBe(200);
      // An upload cannot be stored: 503, no record, no draft left behind.
      const form = new FormData();
      form.append('file', new Blob(['x,y\n1,2\n']), 'small.csv');
      const refused = await fetch(`${stack.apiUrl}/v1/uploads`, {
        method: 'POST',
        headers: authHeaders(stack),
        body: form,
      });
      expect(refused.status).toBe(503);
      expect(((await refused.json()) as { error: { code: string } }).error.code).toBe('artifact_store_unavailable');
      const uploads = await api<{ uploads: { id: string }[] }>(stack, '/v1/uploads');
      expect(uploads.body.uploads.map((u) => u.id)).toEqual([upload.id]);
      expect(await readdir(join(stack.dataDir, 'uploads'))).toEqual([]);

      // The worker waits AUTOLAB_S3_RETRY_SECONDS (3 s here) for the store, then fails the run with a clear code.
      const second = await submitRun(stack, { goal: 'A run that cannot store its files.', ...SMALL_RUN });
      const failed = await waitForStatus(stack, second.id, ['succeeded', 'failed'], 120_000);
      expect(failed.status).toBe('failed');
      expect(failed.error?.code).toBe('artifact_store_unavailable');
      expect(failed.error?.message).toMatch(/artifact store s3:\/\/autolab-test\/e2e-.*ECONNREFUSED/);
      expect(failed.error?.message).not.toContain(s3.secretAccessKey);
    } finally {
      await s3.start();
    }
    const after = await api<{ artifacts: ArtifactEntry[] }>(stack, `/v1/runs/${run.id}/artifacts`);
    expect(after.status).toBe(200);
    expect(after.body.artifacts).toEqual(before);
    // Deleting the upload removes its files from the bucket.
    expect((await api(stack, `/v1/uploads/${upload.id}`, { method: 'DELETE' })).status).toBe(204);
    const raw = new S3Client({
      region: 'us-east-1',
      endpoint: s3.endpoint,
      forcePathStyle: true,
      credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey },
    });
    const left = await raw.send(new ListObjectsV2Command({ Bucket: s3.bucket, Prefix: `${keyPrefix}/uploads/` }));
    expect(left.Contents ?? []).toEqual([]);
    raw.destroy();
  });
});
