// The inspector's "References" section: for each reference the instance's
// code declares (`net: kiln.Architecture`, references.ts), a select of the
// project's architectures (a set_pointer patch: undoable like any edit,
// "none" clears it), a warning while it is unset or wrong, and a link that
// opens the architecture in its editor.
import { useMemo } from 'react';
import type { Guid, Op, Tree } from '../model';
import { formatRoute, parseRoute } from '../router';
import { instanceReferences, resourceChoices, setReferenceLabel, setReferenceOps } from './references';

type EditFn = ((ops: readonly Op[], label: string) => string | null) | null;

/**
 * The architecture editor's route for `guid`, in the project, branch and
 * commit the page shows now (the pipeline's own route), or null off a project page.
 */
export function architectureHref(guid: Guid, hash: string = window.location.hash): string | null {
  const r = parseRoute(hash);
  if (r.page !== 'project') return null;
  return formatRoute({ ...r, view: { kind: 'architecture', guid } });
}

export function ReferencePicker({ tree, node, edit }: { tree: Tree; node: Guid; edit: EditFn }) {
  const refs = useMemo(() => instanceReferences(tree, node), [tree, node]);
  const choices = useMemo(() => resourceChoices(tree, 'Architecture'), [tree]);
  if (refs.length === 0) return null;
  return (
    <div className="inspector-section" data-testid="references">
      <div className="section-label">References</div>
      {refs.map((r) => {
        const known = r.target !== null && choices.some((c) => c.guid === r.target);
        const href = known ? architectureHref(r.target!) : null;
        return (
          <div className="field reference" key={`${node}/${r.name}`} data-testid={`ref-${r.name}`}>
            <div className="attr-head">
              <label htmlFor={`ref-${r.name}`}>{r.name}</label>
              <span className="attr-type">{r.type.toLowerCase()}</span>
              {href && (
                <a className="link small" href={href} data-testid={`open-${r.name}`}>
                  Open architecture
                </a>
              )}
            </div>
            <select
              id={`ref-${r.name}`}
              value={r.target ?? ''}
              disabled={!edit}
              onChange={(e) => {
                const target = e.target.value === '' ? null : e.target.value;
                const ops = setReferenceOps(tree, node, r.name, target);
                if (ops.length > 0) edit?.(ops, setReferenceLabel(tree, node, r.name, target));
              }}
            >
              <option value="">{choices.length ? 'none' : 'No architectures in this project'}</option>
              {r.target !== null && !known && <option value={r.target}>{r.targetName ?? 'a deleted node'}</option>}
              {choices.map((c) => (
                <option key={c.guid} value={c.guid}>
                  {c.name}
                </option>
              ))}
            </select>
            {r.problem && (
              <small className="field-error" role="alert" data-testid={`ref-problem-${r.name}`}>
                {r.problem}
              </small>
            )}
          </div>
        );
      })}
    </div>
  );
}
