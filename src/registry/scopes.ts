/**
 * Token scopes of the Docker token protocol (`repository:<name>:pull,push`): what a request needs, and whether a
 * token already granted serves it.
 */

/** `repository:<name>:pull` or `repository:<name>:pull,push`. */
export function repositoryScope(name: string, push = false): string {
  return `repository:${name}:${push ? 'pull,push' : 'pull'}`;
}

/** `type:name:actions` -> resource and actions; the name may itself hold colons (`registry:catalog:*` has none). */
function splitScope(scope: string): { resource: string; actions: string[] } {
  const last = scope.lastIndexOf(':');
  return last < 0 ? { resource: scope, actions: [] } : { resource: scope.slice(0, last), actions: scope.slice(last + 1).split(',').filter((a) => a !== '') };
}

/** One scope per resource with the union of its actions: `repo:a:pull` + `repo:a:pull,push` -> `repo:a:pull,push`. */
export function mergeScopes(scopes: string[]): string[] {
  const merged = new Map<string, Set<string>>();
  for (const scope of scopes) {
    const { resource, actions } = splitScope(scope);
    const set = merged.get(resource) ?? new Set<string>();
    for (const action of actions) set.add(action);
    merged.set(resource, set);
  }
  return [...merged].map(([resource, actions]) => `${resource}:${[...actions].join(',')}`);
}

/** Whether a token granted for `held` scopes also serves `wanted` (same resources, at least those actions). */
export function covers(held: string[], wanted: string[]): boolean {
  const have = new Map(mergeScopes(held).map((s) => { const { resource, actions } = splitScope(s); return [resource, new Set(actions)]; }));
  return wanted.every((scope) => {
    const { resource, actions } = splitScope(scope);
    const got = have.get(resource);
    return got !== undefined && actions.every((a) => got.has(a) || got.has('*'));
  });
}
