// The controls every metric chart shares: a logarithmic y axis and an
// exponential smoothing slider (chartMath.ts does the arithmetic).
import './charts.css';

export interface ChartOptions {
  readonly log: boolean;
  /** 0 (raw) to 0.99. */
  readonly smoothing: number;
}

export const RAW: ChartOptions = { log: false, smoothing: 0 };

export function ChartControls({ value, onChange }: { value: ChartOptions; onChange: (o: ChartOptions) => void }) {
  return (
    <div className="chart-controls" data-testid="chart-controls">
      <label className="chart-control">
        <input
          type="checkbox"
          checked={value.log}
          onChange={(e) => onChange({ ...value, log: e.target.checked })}
          data-testid="chart-log"
        />
        Log scale
      </label>
      <label className="chart-control" title="Exponential moving average of the values; 0 shows them raw">
        Smoothing
        <input
          type="range"
          min={0}
          max={0.99}
          step={0.01}
          value={value.smoothing}
          onChange={(e) => onChange({ ...value, smoothing: Number(e.target.value) })}
          aria-label="Smoothing"
          data-testid="chart-smoothing"
        />
        <span className="mono small chart-smoothing-value">{value.smoothing.toFixed(2)}</span>
      </label>
    </div>
  );
}

/** uPlot's y scale for the options: distr 3 is its logarithmic axis. */
export function yScale(o: ChartOptions): { distr?: 1 | 3; log?: 10 } {
  return o.log ? { distr: 3, log: 10 } : { distr: 1 };
}
