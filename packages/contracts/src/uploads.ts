import { z } from 'zod';

/** Upload ids: `upl_` and 26 time-sortable characters, like run ids. */
export const UPLOAD_ID_PATTERN = /^upl_[0-9a-z]{26}$/;

export const UploadFile = z.object({
  path: z.string().describe('Relative path inside the upload, e.g. `train.csv` or `src/model.py`.'),
  size: z.number().int().describe('Bytes.'),
  sha256: z.string().describe('SHA-256 of the content, hex.'),
});
export type UploadFile = z.infer<typeof UploadFile>;

/** An upload as listed: what it holds in total, not file by file. */
export const UploadSummary = z.object({
  id: z.string(),
  tenant: z.string(),
  name: z.string().nullable().describe('The archive’s or first file’s name, for people.'),
  createdAt: z.string(),
  bytes: z.number().int().describe('Total bytes of its files (unpacked).'),
  fileCount: z.number().int(),
});
export type UploadSummary = z.infer<typeof UploadSummary>;

export const UploadRecord = UploadSummary.extend({ files: z.array(UploadFile) });
export type UploadRecord = z.infer<typeof UploadRecord>;

export const UploadList = z.object({
  uploads: z.array(UploadSummary),
  nextCursor: z.string().nullable().describe('Pass as `cursor` to get the next (older) page; null on the last page.'),
});
export type UploadList = z.infer<typeof UploadList>;
