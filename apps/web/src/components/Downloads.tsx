import { useState } from 'react';
import { useApi } from '../hooks/api-context.js';
import { saveDownload } from '../lib/api.js';

/** Paper PDF and TeX, the code archive and everything, downloaded with the key. */
export function Downloads({ runId, paperReady, hasFiles }: { runId: string; paperReady: boolean; hasFiles: boolean }) {
  const { client } = useApi();
  const [busy, setBusy] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const items = [
    {
      id: 'pdf',
      label: 'Paper (PDF)',
      open: () => client.openArtifact(runId, 'paper/paper.pdf'),
      name: 'paper.pdf',
      enabled: paperReady,
    },
    {
      id: 'tex',
      label: 'Paper (LaTeX)',
      open: () => client.openArtifact(runId, 'paper/paper.tex'),
      name: 'paper.tex',
      enabled: paperReady,
    },
    {
      id: 'code',
      label: 'Code (.tar.gz)',
      open: () => client.openArchive(runId, 'code'),
      name: `${runId}-code.tar.gz`,
      enabled: hasFiles,
    },
    {
      id: 'all',
      label: 'Everything (.tar.gz)',
      open: () => client.openArchive(runId, 'all'),
      name: `${runId}.tar.gz`,
      enabled: hasFiles,
    },
  ];
  const get = async (item: (typeof items)[number]) => {
    setBusy(item.id);
    setError(null);
    try {
      await saveDownload(await item.open(), item.name);
    } catch (err) {
      setError((err as Error).message);
    } finally {
      setBusy(null);
    }
  };
  return (
    <div className="downloads">
      {items.map((item) => (
        <button
          key={item.id}
          type="button"
          className="btn download"
          data-download={item.id}
          disabled={!item.enabled || busy !== null}
          onClick={() => void get(item)}
        >
          <span aria-hidden="true">↓</span> {busy === item.id ? 'Downloading…' : item.label}
        </button>
      ))}
      {error && <p className="field-error">{error}</p>}
    </div>
  );
}
