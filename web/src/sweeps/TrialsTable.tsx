// The trials of a sweep (or compared executions) as a table: one row per
// trial with its parameter values, state and every final metric; sortable
// by any column (click its head); the best row by the objective highlighted;
// a row opens its execution. Shared with ExecutionsList's comparison.
import { useState } from 'react';
import { shortId } from '../ui/format';
import { cellValue, formatValue, sortRows, type Objective, type SortKey, type TrialRow } from './trials';

export function TrialsTable({
  rows,
  params,
  metrics,
  objective,
  best,
  dimmed,
  executionHref,
}: {
  rows: readonly TrialRow[];
  params: readonly string[];
  metrics: readonly string[];
  objective: Objective | null;
  best: string | null;
  /** Executions outside the plot's brushes. */
  dimmed?: ReadonlySet<string>;
  executionHref: (id: string) => string;
}) {
  const [sort, setSort] = useState<{ key: SortKey; ascending: boolean } | null>(null);
  const shown = sort ? sortRows(rows, sort.key, sort.ascending) : rows;
  const head = (key: SortKey, text: string, className = '') => (
    <th
      key={key}
      className={`sortable ${className}`}
      aria-sort={sort?.key === key ? (sort.ascending ? 'ascending' : 'descending') : 'none'}
      onClick={() => setSort((s) => ({ key, ascending: s?.key === key ? !s.ascending : true }))}
      title="Sort by this column"
    >
      {text}
      {sort?.key === key ? (sort.ascending ? ' ▲' : ' ▼') : ''}
    </th>
  );
  return (
    <table className="table trials-table" data-testid="trials">
      <thead>
        <tr>
          {head('label', 'Trial')}
          {head('state', 'State')}
          {params.map((p) => head(`param:${p}`, p, 'trial-param'))}
          {metrics.map((m) =>
            head(`metric:${m}`, m, `trial-metric ${objective?.metric === m ? 'objective' : ''}`),
          )}
        </tr>
      </thead>
      <tbody>
        {shown.map((r) => (
          <tr
            key={r.execution}
            className={`${r.execution === best ? 'best' : ''} ${dimmed?.has(r.execution) ? 'dimmed' : ''}`}
            data-testid="trial-row"
            data-execution={r.execution}
          >
            <td>
              <a href={executionHref(r.execution)} title={`Execution ${r.execution}`}>
                {r.label}
              </a>
              {r.label !== shortId(r.execution) && <span className="muted small mono"> {shortId(r.execution)}</span>}
              {r.execution === best && (
                <span className="best-badge" title={objective ? `Best ${objective.metric} (${objective.direction})` : ''}>
                  best
                </span>
              )}
            </td>
            <td>
              <span className={`status-pill ${r.state}`}>{r.state}</span>
            </td>
            {params.map((p) => (
              <td key={p} className="num" data-key={`param:${p}`}>
                {formatValue(cellValue(r, `param:${p}`))}
              </td>
            ))}
            {metrics.map((m) => (
              <td key={m} className="num" data-key={`metric:${m}`}>
                {formatValue(cellValue(r, `metric:${m}`))}
              </td>
            ))}
          </tr>
        ))}
      </tbody>
    </table>
  );
}
