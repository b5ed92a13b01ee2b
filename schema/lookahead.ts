// Which fields a query selects below the field being resolved, so a resolver can read the relations
// that will be asked for in the same statement as its own rows (see services/workspaces/list-page.ts).
// Directives (@include/@skip) are not evaluated: a field they drop is read for nothing, never missed.
import type { GraphQLResolveInfo, SelectionSetNode } from 'graphql';

/** Every selection set reachable from `sets` without descending into a field (through fragments). */
function fieldsOf(info: GraphQLResolveInfo, sets: readonly SelectionSetNode[], visit: (name: string, set: SelectionSetNode | undefined) => void): void {
  for (const set of sets) {
    for (const sel of set.selections) {
      if (sel.kind === 'Field') visit(sel.name.value, sel.selectionSet);
      else if (sel.kind === 'InlineFragment') fieldsOf(info, [sel.selectionSet], visit);
      else {
        const fragment = info.fragments[sel.name.value];
        if (fragment) fieldsOf(info, [fragment.selectionSet], visit);
      }
    }
  }
}

/** The names of the fields selected at `path` below the current field, e.g. ['edges', 'node']. */
export function selectedFieldsAt(info: GraphQLResolveInfo, path: readonly string[]): Set<string> {
  let sets = info.fieldNodes.flatMap((f) => (f.selectionSet ? [f.selectionSet] : []));
  for (const step of path) {
    const next: SelectionSetNode[] = [];
    fieldsOf(info, sets, (name, set) => {
      if (name === step && set) next.push(set);
    });
    sets = next;
  }
  const names = new Set<string>();
  fieldsOf(info, sets, (name) => names.add(name));
  return names;
}
