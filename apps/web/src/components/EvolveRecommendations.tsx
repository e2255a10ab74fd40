/** The run's within-run memory: what later mutation prompts are told, each with the candidates it came from. */
export function EvolveRecommendations({
  recommendations,
  onSelect,
}: {
  recommendations: { text: string; candidateIds: string[] }[];
  onSelect: (candidateId: string) => void;
}) {
  return (
    <ul className="recommendations" data-testid="recommendations">
      {recommendations.map((r, i) => (
        // biome-ignore lint/suspicious/noArrayIndexKey: the list is replaced whole
        <li key={i}>
          <span className="recommendation-text">{r.text}</span>{' '}
          {r.candidateIds.length > 0 && (
            <span className="small muted">
              (from{' '}
              {r.candidateIds.map((id, j) => (
                <span key={id}>
                  {j > 0 && ', '}
                  <button type="button" className="link-button" onClick={() => onSelect(id)}>
                    {id}
                  </button>
                </span>
              ))}
              )
            </span>
          )}
        </li>
      ))}
    </ul>
  );
}
