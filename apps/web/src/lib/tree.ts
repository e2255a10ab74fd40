/** What the tree layout needs of a node. */
export interface TreeInput {
  id: string;
  parentId: string | null;
}

export interface PlacedNode<T extends TreeInput> {
  node: T;
  /** Column (leaf slot), fractional for parents centred over their children. */
  x: number;
  /** Depth: 0 for roots. */
  y: number;
}

export interface TreeLayout<T extends TreeInput> {
  nodes: PlacedNode<T>[];
  edges: { from: string; to: string }[];
  /** Number of leaf columns and of levels. */
  width: number;
  depth: number;
}

/**
 * Lays a forest out top-down: each leaf gets its own column in creation order, a parent sits centred over its
 * children. Nodes whose parent is unknown become roots. Cycles (which a well-formed log never has) are broken.
 */
export function layoutTree<T extends TreeInput>(input: readonly T[]): TreeLayout<T> {
  const byId = new Map(input.map((n) => [n.id, n]));
  const children = new Map<string, T[]>();
  const roots: T[] = [];
  for (const node of input) {
    const parent = node.parentId !== null && node.parentId !== node.id ? byId.get(node.parentId) : undefined;
    if (!parent) {
      roots.push(node);
      continue;
    }
    const list = children.get(parent.id) ?? [];
    list.push(node);
    children.set(parent.id, list);
  }
  const placed: PlacedNode<T>[] = [];
  const edges: { from: string; to: string }[] = [];
  const visited = new Set<string>();
  let column = 0;
  let depth = 0;
  const place = (node: T, level: number): number => {
    visited.add(node.id);
    depth = Math.max(depth, level + 1);
    const kids = (children.get(node.id) ?? []).filter((k) => !visited.has(k.id));
    let x: number;
    if (kids.length === 0) {
      x = column++;
    } else {
      const xs = kids.map((kid) => {
        edges.push({ from: node.id, to: kid.id });
        return place(kid, level + 1);
      });
      x = (xs[0]! + xs[xs.length - 1]!) / 2;
    }
    placed.push({ node, x, y: level });
    return x;
  };
  for (const root of roots) place(root, 0);
  // Whatever is left sits on a cycle: show it as a root rather than lose it.
  for (const node of input) if (!visited.has(node.id)) place(node, 0);
  const order = new Map(input.map((n, i) => [n.id, i]));
  placed.sort((a, b) => order.get(a.node.id)! - order.get(b.node.id)!);
  return { nodes: placed, edges, width: column, depth };
}
