import type { KeyboardEvent } from 'react';
import { useMemo } from 'react';
import { formatMetric } from '../lib/format.js';
import type { TreeNode } from '../lib/run-model.js';
import { layoutTree } from '../lib/tree.js';

const COL = 64;
const ROW = 76;
const PAD = 30;
const R = 16;

/** Short label inside a node: n007 → 7, c000 → 0. */
const shortId = (id: string) => id.replace(/^[a-z]0*(?=\d)/, '') || id;

/** The experiment tree: parent → child edges, nodes coloured running / ok / failed, the best ringed. */
export function ExperimentTree({
  nodes,
  bestNodeId,
  selectedId,
  metric,
  onSelect,
  highlighted,
  label = 'Experiment tree',
  empty = 'No experiments yet. Nodes appear here as the agent creates them.',
}: {
  nodes: TreeNode[];
  bestNodeId: string | null;
  selectedId: string | null;
  metric: string | null;
  onSelect: (id: string) => void;
  /** Nodes drawn as a path (the best program's lineage), with the edges between them. */
  highlighted?: ReadonlySet<string>;
  label?: string;
  empty?: string;
}) {
  const layout = useMemo(() => layoutTree(nodes), [nodes]);
  if (nodes.length === 0) return <p className="muted empty-inline">{empty}</p>;
  const width = Math.max(1, layout.width) * COL + PAD * 2;
  // The last row needs room for its circle and the line of text under it.
  const height = PAD + (Math.max(1, layout.depth) - 1) * ROW + R + 22;
  const pos = new Map(layout.nodes.map((p) => [p.node.id, { x: PAD + p.x * COL + COL / 2, y: PAD + p.y * ROW }]));
  const keyed = (id: string) => (e: KeyboardEvent) => {
    if (e.key === 'Enter' || e.key === ' ') {
      e.preventDefault();
      onSelect(id);
    }
  };
  return (
    <div className="tree-scroll">
      <svg
        className="tree"
        width={width}
        height={height}
        viewBox={`0 0 ${width} ${height}`}
        role="img"
        aria-label={`${label} with ${nodes.length} nodes`}
        data-testid="experiment-tree"
      >
        <g className="tree-edges">
          {layout.edges.map((edge) => {
            const a = pos.get(edge.from)!;
            const b = pos.get(edge.to)!;
            const mid = (a.y + b.y) / 2;
            return (
              <path
                key={`${edge.from}-${edge.to}`}
                d={`M${a.x} ${a.y + R} C${a.x} ${mid} ${b.x} ${mid} ${b.x} ${b.y - R}`}
                className={`tree-edge${highlighted?.has(edge.from) && highlighted.has(edge.to) ? ' in-lineage' : ''}`}
              />
            );
          })}
        </g>
        {layout.nodes.map(({ node }) => {
          const p = pos.get(node.id)!;
          const best = node.id === bestNodeId;
          const value = metric ? node.metrics[metric] : undefined;
          return (
            // biome-ignore lint/a11y/useSemanticElements: an SVG group cannot be a <button>
            <g
              key={node.id}
              className={`tree-node status-${node.status} ${best ? 'is-best' : ''} ${selectedId === node.id ? 'is-selected' : ''} ${highlighted?.has(node.id) ? 'in-lineage' : ''}`}
              transform={`translate(${p.x} ${p.y})`}
              role="button"
              tabIndex={0}
              aria-label={`${node.id} ${node.operator} ${node.status}${best ? ' best' : ''}`}
              data-node-id={node.id}
              data-status={node.status}
              data-best={best ? 'true' : undefined}
              data-lineage={highlighted?.has(node.id) ? 'true' : undefined}
              onClick={() => onSelect(node.id)}
              onKeyDown={keyed(node.id)}
            >
              <title>{`${node.id} · ${node.operator}${node.stage ? ` · ${node.stage}` : ''} · ${node.status}${value !== undefined ? ` · ${metric} ${formatMetric(value)}` : ''}`}</title>
              {best && <circle r={R + 5} className="best-ring" />}
              <circle r={R} className="node-circle" />
              <text className="node-label" dy="0.35em">
                {shortId(node.id)}
              </text>
              <text className="node-op" y={R + 13}>
                {value !== undefined ? formatMetric(value) : node.operator}
              </text>
            </g>
          );
        })}
      </svg>
    </div>
  );
}
