// The side panel of the architecture editor: the summary (a torchinfo-like
// table with totals), the problems (click one to select its node) and the
// generated code. What it shows is the latest analysis; "stale" while a newer
// document is being analysed.
import { lazy, Suspense, useState } from 'react';
import { formatCount, type Analysis, type SummaryRow } from './analysis';

const CodePanel = lazy(() => import('./CodePanel'));

export type PanelTab = 'summary' | 'problems' | 'code';

export function AnalysisPanel({
  analysis,
  failure,
  stale,
  rows,
  names,
  fileName,
  onSelectNode,
}: {
  analysis: Analysis | null;
  /** The analysis request failed (server down, no route): said plainly. */
  failure: string | null;
  stale: boolean;
  rows: readonly SummaryRow[];
  /** Node id → name, for problems. */
  names: ReadonlyMap<string, string>;
  fileName: string;
  onSelectNode: (id: string) => void;
}) {
  const [tab, setTab] = useState<PanelTab>('summary');
  const [collapsed, setCollapsed] = useState(false);
  const problems = analysis?.errors ?? [];
  if (collapsed)
    return (
      <aside className="arch-panel collapsed" aria-label="Analysis">
        <div className="arch-tabs">
          <button type="button" className="tool" onClick={() => setCollapsed(false)} title="Show the analysis" data-testid="panel-show">
            ◂
          </button>
          {problems.length > 0 && <span className="field-error small" title={`${problems.length} problem(s)`}>✗</span>}
        </div>
      </aside>
    );
  return (
    <aside className={`arch-panel${tab === 'code' ? ' wide' : ''}`} aria-label="Analysis">
      <div className="arch-tabs" role="tablist">
        {(['summary', 'problems', 'code'] as const).map((t) => (
          <button
            key={t}
            type="button"
            role="tab"
            aria-selected={tab === t}
            className={`arch-tab${tab === t ? ' active' : ''}${t === 'problems' && problems.length > 0 ? ' bad' : ''}`}
            onClick={() => setTab(t)}
            data-testid={`tab-${t}`}
          >
            {t === 'summary' ? 'Summary' : t === 'problems' ? `Problems (${problems.length})` : 'Code'}
          </button>
        ))}
        <span
          className="arch-status muted small"
          data-testid="analysis-status"
          title={failure ? '' : stale ? 'Analysing…' : analysis ? (analysis.ok ? 'Valid' : 'Errors: see Problems') : ''}
        >
          {failure ? '' : stale ? '…' : analysis ? (analysis.ok ? '✓' : '✗') : ''}
        </span>
        <button type="button" className="tool" onClick={() => setCollapsed(true)} title="Hide the analysis (more room for the graph)">
          ▸
        </button>
      </div>
      {failure && (
        <p className="field-error small arch-failure" role="alert" data-testid="analysis-failure">
          The analysis is unavailable: {failure}
        </p>
      )}
      {tab === 'summary' && <Summary rows={rows} analysis={analysis} onSelectNode={onSelectNode} />}
      {tab === 'problems' && (
        <ul className="arch-problems" data-testid="problems">
          {problems.length === 0 && <li className="muted small">{analysis ? 'No problems.' : 'Not analysed yet.'}</li>}
          {problems.map((p, i) => (
            <li key={i}>
              <button
                type="button"
                className="arch-problem"
                disabled={!p.node}
                onClick={() => p.node && onSelectNode(p.node)}
                data-testid="problem"
              >
                {p.node && <strong>{names.get(p.node) ?? p.node}</strong>}
                {p.architecture && <span className="muted small"> in {p.architecture}</span>}
                <span className="arch-problem-text">{p.message}</span>
              </button>
            </li>
          ))}
        </ul>
      )}
      {tab === 'code' && (
        <Suspense fallback={<p className="muted small">Loading the code view…</p>}>
          <CodePanel code={analysis?.code ?? ''} fileName={fileName} />
        </Suspense>
      )}
    </aside>
  );
}

function Summary({
  rows,
  analysis,
  onSelectNode,
}: {
  rows: readonly SummaryRow[];
  analysis: Analysis | null;
  onSelectNode: (id: string) => void;
}) {
  const t = analysis?.totals;
  return (
    <div className="arch-summary">
      <table className="arch-table" data-testid="summary">
        <thead>
          <tr>
            <th>Layer (type)</th>
            <th>Output shape</th>
            <th className="num">Param #</th>
            <th className="num">Mult-adds</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((r) => (
            <tr key={r.id} onClick={() => onSelectNode(r.id)}>
              <td>
                {r.name}
                <span className="arch-row-type muted">{r.type}</span>
              </td>
              <td className="mono">{r.output || '—'}</td>
              <td className="num mono">{r.parameters ? formatCount(r.parameters) : '—'}</td>
              <td className="num mono">{r.macs ? formatCount(r.macs) : '—'}</td>
            </tr>
          ))}
        </tbody>
        {t && (
          <tfoot>
            <tr>
              <td colSpan={2}>
                Total · trainable {formatCount(t.trainable ?? t.parameters)}
              </td>
              <td className="num mono" data-testid="total-params">
                {formatCount(t.parameters)}
              </td>
              <td className="num mono">{formatCount(t.macs)}</td>
            </tr>
          </tfoot>
        )}
      </table>
    </div>
  );
}
