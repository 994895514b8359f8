// "on [Default: local ▾]": where a run or a sweep goes, beside Run and in the
// sweep dialog. Renders nothing when there is nothing to choose (backends.ts).
import type { Backend } from '@kiln/client';
import { backendOptions, type BackendChoice } from './backends';
import './compute.css';

export function BackendSelect({
  backends,
  value,
  onChange,
  disabled,
  testId = 'run-backend',
}: {
  backends: readonly Backend[] | null;
  value: BackendChoice;
  onChange: (choice: BackendChoice) => void;
  disabled?: boolean;
  testId?: string;
}) {
  const options = backendOptions(backends);
  if (!options) return null;
  const current = options.find((o) => o.value === value) ?? options[0]!;
  return (
    <label className="backend-select" title={current.title}>
      <span className="muted small">on</span>
      <select value={current.value} onChange={(e) => onChange(e.target.value)} disabled={disabled} aria-label="Where to run" data-testid={testId}>
        {options.map((o) => (
          <option key={o.value} value={o.value} title={o.title}>
            {o.label}
          </option>
        ))}
      </select>
    </label>
  );
}
