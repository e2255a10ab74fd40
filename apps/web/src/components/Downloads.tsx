import { useApi } from '../hooks/api-context.js';
import { useDownload } from '../hooks/useDownload.js';
import { DownloadButton } from './DownloadButton.js';

/** Paper PDF and TeX, the code archive and everything, downloaded with the key. */
export function Downloads({ runId, paperReady, hasFiles }: { runId: string; paperReady: boolean; hasFiles: boolean }) {
  const { client } = useApi();
  const { busy, error, save } = useDownload();
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
  return (
    <div className="downloads">
      {items.map((item) => (
        <DownloadButton
          key={item.id}
          id={item.id}
          label={item.label}
          busy={busy}
          disabled={!item.enabled || busy !== null}
          onClick={() => void save(item.id, item.open, item.name)}
        />
      ))}
      {error && <p className="field-error">{error}</p>}
    </div>
  );
}
