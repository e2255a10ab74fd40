export function ChartLegend() {
  return (
    <ul className="legend">
      <li>
        <span className="line-swatch raw" /> each experiment
      </li>
      <li>
        <span className="line-swatch best" /> best so far
      </li>
    </ul>
  );
}
