/**
 * Each node under its parent, depth first in the given order, with the tree drawn before its id (`├─ `, `│  `):
 * `n001`, `└─ n002`, `   ├─ n003`. A node whose parent is not in the list is shown as a root rather than hidden.
 */
export function treeBranches<T extends { id: string; parentId: string | null }>(
  nodes: readonly T[],
): { branch: string; node: T }[] {
  const ids = new Set(nodes.map((n) => n.id));
  const children = new Map<string | null, T[]>();
  for (const node of nodes) {
    const parent = node.parentId !== null && ids.has(node.parentId) ? node.parentId : null;
    children.set(parent, [...(children.get(parent) ?? []), node]);
  }
  const rows: { branch: string; node: T }[] = [];
  const walk = (parent: string | null, indent: string) => {
    const kids = children.get(parent) ?? [];
    kids.forEach((node, index) => {
      const last = index === kids.length - 1;
      const branch = parent === null ? '' : last ? '└─ ' : '├─ ';
      rows.push({ branch: `${indent}${branch}${node.id}`, node });
      walk(node.id, parent === null ? indent : `${indent}${last ? '   ' : '│  '}`);
    });
  };
  walk(null, '');
  return rows;
}
