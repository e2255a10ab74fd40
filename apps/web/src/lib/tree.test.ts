import { describe, expect, it } from 'vitest';
import { layoutTree } from './tree.js';

const n = (id: string, parentId: string | null = null) => ({ id, parentId });

describe('layoutTree', () => {
  it('puts leaves in columns and centres parents over their children', () => {
    const layout = layoutTree([n('a'), n('b'), n('c', 'a'), n('d', 'a'), n('e', 'c')]);
    const at = Object.fromEntries(layout.nodes.map((p) => [p.node.id, [p.x, p.y]]));
    expect(at).toEqual({ a: [0.5, 0], c: [0, 1], e: [0, 2], d: [1, 1], b: [2, 0] });
    expect(layout.width).toBe(3);
    expect(layout.depth).toBe(3);
    expect(layout.edges).toEqual([
      { from: 'a', to: 'c' },
      { from: 'c', to: 'e' },
      { from: 'a', to: 'd' },
    ]);
  });

  it('keeps the input order and treats unknown parents as roots', () => {
    const layout = layoutTree([n('x', 'missing'), n('y', 'x')]);
    expect(layout.nodes.map((p) => p.node.id)).toEqual(['x', 'y']);
    expect(layout.nodes[0]!.y).toBe(0);
    expect(layout.nodes[1]!.y).toBe(1);
  });

  it('survives cycles and self-parents', () => {
    const layout = layoutTree([n('p', 'q'), n('q', 'p'), n('s', 's')]);
    expect(layout.nodes).toHaveLength(3);
    expect(new Set(layout.nodes.map((p) => p.node.id))).toEqual(new Set(['p', 'q', 's']));
  });

  it('lays out an empty tree', () => {
    expect(layoutTree([])).toEqual({ nodes: [], edges: [], width: 0, depth: 0 });
  });
});
