// Trials side by side: the objective picker (metric and direction), the
// parallel-coordinates plot and the sortable table. The sweep view and the
// executions' comparison both show their rows through this.
import { useEffect, useMemo, useState } from 'react';
import { ParallelCoordinates } from './ParallelCoordinates';
import { TrialsTable } from './TrialsTable';
import './sweeps.css';
import { bestRow, columnsOf, defaultObjective, type Direction, type Objective, type TrialRow } from './trials';

export function TrialsPanel({
  rows,
  executionHref,
  onOpen,
}: {
  rows: readonly TrialRow[];
  executionHref: (id: string) => string;
  onOpen: (id: string) => void;
}) {
  const { params, metrics } = useMemo(() => columnsOf(rows), [rows]);
  const [objective, setObjective] = useState<Objective | null>(null);
  // The default until the user picks one, and again if the picked metric disappears.
  useEffect(() => {
    if (!objective || !metrics.includes(objective.metric)) setObjective(defaultObjective(metrics));
  }, [metrics, objective]);
  // Metrics on the plot: the objective and any others ticked.
  const [plotted, setPlotted] = useState<ReadonlySet<string>>(new Set());
  const [inside, setInside] = useState<ReadonlySet<string> | null>(null);
  const best = bestRow(rows, objective);
  const specs = useMemo(
    () => [
      ...params.map((p) => ({ key: `param:${p}`, label: p })),
      ...metrics.filter((m) => m === objective?.metric || plotted.has(m)).map((m) => ({ key: `metric:${m}`, label: m })),
    ],
    [params, metrics, objective, plotted],
  );
  const dimmed = inside ? new Set(rows.map((r) => r.execution).filter((e) => !inside.has(e))) : undefined;
  return (
    <div className="trials-panel">
      <div className="trials-controls">
        <label>
          Best by{' '}
          <select
            value={objective?.metric ?? ''}
            onChange={(e) => setObjective({ metric: e.target.value, direction: objective?.direction ?? 'min' })}
            aria-label="Objective metric"
            data-testid="objective-metric"
            disabled={metrics.length === 0}
          >
            {metrics.length === 0 && <option value="">no metrics yet</option>}
            {metrics.map((m) => (
              <option key={m} value={m}>
                {m}
              </option>
            ))}
          </select>
        </label>
        <select
          value={objective?.direction ?? 'min'}
          onChange={(e) => objective && setObjective({ ...objective, direction: e.target.value as Direction })}
          aria-label="Direction"
          disabled={!objective}
        >
          <option value="min">lowest</option>
          <option value="max">highest</option>
        </select>
        {metrics.length > 1 && (
          <details className="trials-plotted">
            <summary>Metrics on the plot</summary>
            {metrics.map((m) => (
              <label key={m}>
                <input
                  type="checkbox"
                  checked={m === objective?.metric || plotted.has(m)}
                  disabled={m === objective?.metric}
                  onChange={() =>
                    setPlotted((s) => {
                      const n = new Set(s);
                      if (n.has(m)) n.delete(m);
                      else n.add(m);
                      return n;
                    })
                  }
                />{' '}
                {m}
              </label>
            ))}
          </details>
        )}
      </div>
      {specs.length > 0 && rows.length > 0 && (
        <ParallelCoordinates rows={rows} specs={specs} objective={objective} best={best} onOpen={onOpen} onBrush={setInside} />
      )}
      <TrialsTable
        rows={rows}
        params={params}
        metrics={metrics}
        objective={objective}
        best={best}
        dimmed={dimmed}
        executionHref={executionHref}
      />
    </div>
  );
}
