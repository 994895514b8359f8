// History's comparison of two commits, for the architectures that differ:
// each one's layers added, removed and changed, with output shapes and
// parameter counts before and after (both versions analysed by the server).
import { useEffect, useState } from 'react';
import type { KilnClient } from '@kiln/client';
import type { Tree } from '../model';
import type { Analysis } from './analysis';
import { formatCount } from './analysis';
import { analyze, loadLibrary } from './api';
import { diffArchitecture, formatDelta, type ArchitectureDiff } from './diff';
import { architectures } from './model';
import { toDocument, type ArchitectureDocument } from './toDocument';
import './architecture.css';

interface Compared {
  readonly guid: string;
  readonly name: string;
  readonly status: 'added' | 'removed' | 'changed';
  readonly diff: ArchitectureDiff;
}

async function analyseOrNull(client: KilnClient, doc: ArchitectureDocument | null, signal: AbortSignal): Promise<Analysis | null> {
  if (!doc) return null;
  try {
    return await analyze(client, doc, signal);
  } catch {
    return null; // the layer changes still show, without shapes
  }
}

export default function ArchitectureDiffs({ client, before, after }: { client: KilnClient; before: Tree; after: Tree }) {
  const [compared, setCompared] = useState<Compared[] | null>(null);
  useEffect(() => {
    const abort = new AbortController();
    void (async () => {
      const lib = await loadLibrary(client).catch(() => null);
      const all = new Map<string, string>();
      for (const a of [...architectures(before), ...architectures(after)]) all.set(a.guid, a.name);
      const out: Compared[] = [];
      for (const [guid, name] of all) {
        const docA = before.nodes[guid] ? toDocument(before, guid, lib) : null;
        const docB = after.nodes[guid] ? toDocument(after, guid, lib) : null;
        if (docA && docB && JSON.stringify(docA) === JSON.stringify(docB)) continue;
        const [aa, ab] = await Promise.all([analyseOrNull(client, docA, abort.signal), analyseOrNull(client, docB, abort.signal)]);
        const diff = diffArchitecture(docA?.architectures[docA.main], aa, docB?.architectures[docB.main], ab);
        out.push({ guid, name, status: !docA ? 'added' : !docB ? 'removed' : 'changed', diff });
      }
      if (!abort.signal.aborted) setCompared(out);
    })();
    return () => abort.abort();
  }, [client, before, after]);
  if (!compared || compared.length === 0) return null;
  return (
    <div className="arch-diffs" data-testid="arch-diffs">
      {compared.map((c) => (
        <section key={c.guid} className="arch-diff">
          <h4>
            Architecture {c.name} <span className="muted small">{c.status}</span>
            {c.diff.parametersBefore !== undefined || c.diff.parametersAfter !== undefined ? (
              <span className="muted small">
                {' '}
                · parameters {formatCount(c.diff.parametersBefore) || '—'} → {formatCount(c.diff.parametersAfter) || '—'}
              </span>
            ) : null}
          </h4>
          {c.diff.changes.length === 0 ? (
            <p className="muted small">Only the layout or connections changed.</p>
          ) : (
            <table className="arch-table">
              <thead>
                <tr>
                  <th />
                  <th>Layer</th>
                  <th>Change</th>
                  <th>Output shape</th>
                  <th className="num">Δ params</th>
                </tr>
              </thead>
              <tbody>
                {c.diff.changes.map((ch) => (
                  <tr key={ch.id} className={`arch-diff-${ch.kind}`}>
                    <td className="change-mark">{ch.kind === 'added' ? '+' : ch.kind === 'removed' ? '−' : '~'}</td>
                    <td>
                      {ch.name}
                      <span className="arch-row-type muted">{ch.type}</span>
                    </td>
                    <td className="arch-diff-details">{ch.kind === 'changed' ? ch.details.join('; ') || 'shape' : ch.kind}</td>
                    <td className="mono">
                      {ch.kind === 'changed' && ch.shapeBefore !== ch.shapeAfter
                        ? `${ch.shapeBefore || '—'} → ${ch.shapeAfter || '—'}`
                        : ch.shapeAfter || ch.shapeBefore}
                    </td>
                    <td className="num mono">{formatDelta(ch.parametersDelta)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </section>
      ))}
    </div>
  );
}
