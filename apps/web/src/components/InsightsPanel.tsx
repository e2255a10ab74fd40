export function InsightsPanel({ insights }: { insights: string[] }) {
  return (
    <ul className="insights">
      {insights.map((insight) => (
        <li key={insight}>{insight}</li>
      ))}
    </ul>
  );
}
