import { useApi } from '../hooks/api-context.js';
import { useDownload } from '../hooks/useDownload.js';
import { DownloadButton } from './DownloadButton.js';

/** A run's file to offer beside the archives (evolve mode: the best program, its diff, the report). */
export interface ExtraDownload {
  id: string;
  label: string;
  path: string;
  name: string;
  enabled: boolean;
}

/**
 * Paper PDF and TeX (a research run), the run's own files (`extra`), the code archive and everything, downloaded with
 * the key.
 */
export function Downloads({
  runId,
  paperReady,
  hasFiles,
  extra,
}: {
  runId: string;
  paperReady: boolean;
  hasFiles: boolean;
  /** Given: these instead of the paper. */
  extra?: ExtraDownload[];
}) {
  const { client } = useApi();
  const { busy, error, save } = useDownload();
  const files = extra?.map((item) => ({ ...item, open: () => client.openArtifact(runId, item.path) }));
  const paper = [
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
  ];
  const items = [
    ...(files ?? paper),
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
