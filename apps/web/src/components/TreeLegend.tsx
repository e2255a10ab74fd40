export function TreeLegend() {
  return (
    <ul className="legend" aria-label="Legend">
      <li>
        <span className="swatch status-running" /> running
      </li>
      <li>
        <span className="swatch status-ok" /> ok
      </li>
      <li>
        <span className="swatch status-failed" /> failed
      </li>
      <li>
        <span className="swatch is-best" /> best
      </li>
    </ul>
  );
}
