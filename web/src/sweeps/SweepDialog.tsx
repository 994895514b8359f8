// "Sweep…": the dialog that starts a sweep of a pipeline (docs/sweeps.md).
// It lists the attributes of the pipeline's operations with their types and
// current values; the user ticks some and gives each a list of values or a
// range, picks grid or random, sees the number of trials, and starts it.
// Parsing and validation live in parameters.ts; this file only holds the form.
import { useMemo, useState } from 'react';
import { ApiError, type Backend, type KilnClient, type SweepMode } from '@kiln/client';
import { backendField, type BackendChoice } from '../compute/backends';
import { BackendSelect } from '../compute/BackendSelect';
import type { Guid, Tree } from '../model';
import { Dialog } from '../ui/Dialog';
import { describeError } from '../ui/format';
import {
  gridValues,
  parameterKey,
  parseRange,
  planSweep,
  sweepableAttributes,
  type ParameterChoice,
  type RangeText,
  type SweepableAttribute,
} from './parameters';
import './sweeps.css';

const EMPTY_RANGE: RangeText = { min: '', max: '', steps: '3', log: false, integer: false };

export function SweepDialog({
  client,
  project,
  branch,
  tree,
  pipeline,
  pending,
  backends,
  backend,
  onBackend,
  onClose,
  onStarted,
}: {
  client: KilnClient;
  project: string;
  branch: string;
  tree: Tree;
  pipeline: Guid;
  /** Edits not yet on the server: the sweep runs the branch's commit, so it waits for them. */
  pending: number;
  /** Where the trials run: as the Run button's choice (one choice per project). */
  backends: readonly Backend[] | null;
  backend: BackendChoice;
  onBackend: (choice: BackendChoice) => void;
  onClose: () => void;
  onStarted: (id: string) => void;
}) {
  const attributes = useMemo(() => sweepableAttributes(tree, pipeline), [tree, pipeline]);
  const [choices, setChoices] = useState<ReadonlyMap<string, ParameterChoice>>(new Map());
  const [mode, setMode] = useState<SweepMode>('grid');
  const [samples, setSamples] = useState('8');
  const [seed, setSeed] = useState('');
  const [busy, setBusy] = useState(false);
  const [serverError, setServerError] = useState<string | null>(null);

  const picked = attributes.map((a) => choices.get(parameterKey(a))).filter((c): c is ParameterChoice => c !== undefined);
  const result = planSweep(pipeline, branch, picked, mode, samples, seed);
  const errors = result.ok ? new Map<string, string>() : result.errors;

  const toggle = (a: SweepableAttribute) =>
    setChoices((m) => {
      const next = new Map(m);
      const key = parameterKey(a);
      if (next.has(key)) next.delete(key);
      else
        next.set(key, {
          attribute: a,
          how: 'list',
          // Start from the current value: the user adds the others.
          list: typeof a.value === 'string' ? a.value : JSON.stringify(a.value),
          range: { ...EMPTY_RANGE, integer: a.type === 'int' },
        });
      return next;
    });
  const update = (key: string, change: Partial<ParameterChoice>) =>
    setChoices((m) => {
      const c = m.get(key);
      if (!c) return m;
      return new Map(m).set(key, { ...c, ...change });
    });

  const start = async () => {
    if (!result.ok) return;
    setBusy(true);
    setServerError(null);
    // Let edits still on their way reach the branch first (as Run does).
    for (let i = 0; i < 20 && pending > 0; i++) await new Promise((r) => setTimeout(r, 100));
    try {
      const r = await client.startSweep(project, { ...result.plan.request, ...backendField(backend) });
      onStarted(r.id);
    } catch (e) {
      setServerError(
        e instanceof ApiError && e.isNotFound && e.code !== 'NotFound'
          ? 'This server cannot run sweeps yet (POST …/sweeps answered 404).'
          : `Could not start the sweep: ${describeError(e)}`,
      );
    } finally {
      setBusy(false);
    }
  };

  const byOperation = new Map<string, SweepableAttribute[]>();
  for (const a of attributes) byOperation.set(a.nodeName, [...(byOperation.get(a.nodeName) ?? []), a]);

  return (
    <Dialog
      title="Sweep"
      onClose={onClose}
      actions={
        <>
          <span className="sweep-count" data-testid="sweep-trials" role="status">
            {result.ok ? `${result.plan.trials} trial${result.plan.trials === 1 ? '' : 's'}` : ''}
          </span>
          <button type="button" className="secondary" onClick={onClose}>
            Cancel
          </button>
          <button type="button" onClick={start} disabled={!result.ok || busy} data-testid="sweep-start">
            {busy ? 'Starting…' : 'Start sweep'}
          </button>
        </>
      }
    >
      <div className="sweep-dialog" data-testid="sweep-dialog">
        <p className="muted small">
          Runs the pipeline once per combination of the values below, on {branch}'s latest commit. Trials share every job whose
          inputs and attributes they share.
        </p>
        {attributes.length === 0 && <p className="state">This pipeline's operations have no attributes to vary.</p>}
        <div className="sweep-attributes">
          {[...byOperation].map(([op, attrs]) => (
            <fieldset key={op} className="sweep-operation">
              <legend>{op}</legend>
              {attrs.map((a) => {
                const key = parameterKey(a);
                const c = choices.get(key);
                return (
                  <div key={key} className={`sweep-attribute ${c ? 'picked' : ''}`}>
                    <label className="sweep-pick">
                      <input type="checkbox" checked={c !== undefined} onChange={() => toggle(a)} data-testid={`sweep-pick-${key}`} />
                      <span className="mono">{a.attribute}</span>
                      <span className="muted small">
                        {a.type} · now {JSON.stringify(a.value)}
                      </span>
                    </label>
                    {c && <ChoiceEditor choice={c} mode={mode} error={errors.get(key)} onChange={(ch) => update(key, ch)} />}
                  </div>
                );
              })}
            </fieldset>
          ))}
        </div>
        <div className="sweep-mode">
          <label>
            <input type="radio" name="sweep-mode" checked={mode === 'grid'} onChange={() => setMode('grid')} /> Grid: every combination
          </label>
          <label>
            <input type="radio" name="sweep-mode" checked={mode === 'random'} onChange={() => setMode('random')} data-testid="sweep-random" />{' '}
            Random:
            <input
              className="sweep-number"
              value={samples}
              onChange={(e) => setSamples(e.target.value)}
              disabled={mode !== 'random'}
              aria-label="Random trials"
            />
            trials, seed
            <input
              className="sweep-number"
              value={seed}
              placeholder="any"
              onChange={(e) => setSeed(e.target.value)}
              disabled={mode !== 'random'}
              aria-label="Seed"
            />
          </label>
        </div>
        <BackendSelect backends={backends} value={backend} onChange={onBackend} disabled={busy} testId="sweep-backend" />
        {[...errors].filter(([k]) => !k.includes('.')).map(([k, text]) => (
          <p key={k} className="field-error" role="alert" data-testid="sweep-error">
            {text}
          </p>
        ))}
        {serverError && (
          <p className="state error" role="alert" data-testid="sweep-server-error">
            {serverError}
          </p>
        )}
      </div>
    </Dialog>
  );
}

function ChoiceEditor({
  choice,
  mode,
  error,
  onChange,
}: {
  choice: ParameterChoice;
  mode: SweepMode;
  error: string | undefined;
  onChange: (c: Partial<ParameterChoice>) => void;
}) {
  const numeric = choice.attribute.type === 'int' || choice.attribute.type === 'float';
  const key = parameterKey(choice.attribute);
  const r = choice.range;
  const setRange = (ch: Partial<RangeText>) => onChange({ range: { ...r, ...ch } });
  const preview = choice.how === 'range' && mode === 'grid' ? parseRange(choice.attribute.type, r, mode) : null;
  return (
    <div className="sweep-choice">
      {numeric && (
        <select value={choice.how} onChange={(e) => onChange({ how: e.target.value as 'list' | 'range' })} aria-label={`${key}: list or range`}>
          <option value="list">values</option>
          <option value="range">range</option>
        </select>
      )}
      {choice.how === 'list' ? (
        <input
          className="sweep-list"
          value={choice.list}
          onChange={(e) => onChange({ list: e.target.value })}
          placeholder={choice.attribute.type === 'float' ? '0.001, 0.003, 0.01' : 'a, b, c'}
          aria-label={`${key} values`}
          data-testid={`sweep-values-${key}`}
        />
      ) : (
        <span className="sweep-range">
          <input className="sweep-number" value={r.min} onChange={(e) => setRange({ min: e.target.value })} placeholder="min" aria-label={`${key} min`} />
          …
          <input className="sweep-number" value={r.max} onChange={(e) => setRange({ max: e.target.value })} placeholder="max" aria-label={`${key} max`} />
          {mode === 'grid' && (
            <>
              <input
                className="sweep-number"
                value={r.steps}
                onChange={(e) => setRange({ steps: e.target.value })}
                aria-label={`${key} steps`}
              />
              steps
            </>
          )}
          <label>
            <input type="checkbox" checked={r.log} onChange={(e) => setRange({ log: e.target.checked })} /> log
          </label>
          {choice.attribute.type === 'float' && (
            <label>
              <input type="checkbox" checked={r.integer} onChange={(e) => setRange({ integer: e.target.checked })} /> integer
            </label>
          )}
        </span>
      )}
      {error && (
        <span className="field-error" role="alert">
          {error}
        </span>
      )}
      {preview?.ok && <span className="muted small">{gridValues(preview.value).join(', ')}</span>}
    </div>
  );
}
