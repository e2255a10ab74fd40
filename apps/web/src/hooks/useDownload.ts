import type { Download } from '@autolab/api-client';
import { useState } from 'react';
import { saveDownload, toProblem } from '../lib/api.js';

/**
 * Saves files read through the client (with the key) one at a time: which one is downloading (`busy`, by id, so the
 * others can wait) and the last failure's message.
 */
export function useDownload() {
  const [busy, setBusy] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const save = async (id: string, open: () => Promise<Download>, fileName: string) => {
    setBusy(id);
    setError(null);
    try {
      await saveDownload(await open(), fileName);
    } catch (err) {
      setError(toProblem(err).message);
    } finally {
      setBusy(null);
    }
  };
  return { busy, error, save };
}
