// Where a run goes (docs/compute.md): the server's compute backends as the
// editor offers them. With one backend (or a server without GET /backends)
// there is nothing to choose and no choice is shown. With several, the
// choice is "default" (no `backend` in the request: the server's routing
// decides, which may send a pipeline or an operation elsewhere) or one
// backend by name; it is remembered per project in localStorage. Pure, but
// for the storage it is handed.
import type { Backend } from '@kiln/client';

/** What a run sends as `backend`; "" = none (the server's default routing). */
export type BackendChoice = string;

export interface BackendOption {
  readonly value: BackendChoice;
  readonly label: string;
  readonly title: string;
}

/** The one marked default, else the first (as the server picks); null for an empty list. */
export function defaultBackend(backends: readonly Backend[]): Backend | null {
  return backends.find((b) => b.default) ?? backends[0] ?? null;
}

/**
 * A backend for a menu: "cluster (Slurm)", "local (this machine, 2 at once,
 * 1 GPU)", "lab (remote: 2 workers, 3 at once)".
 */
export function describeBackend(b: Backend): string {
  if (b.kind === 'local') {
    const parts = ['this machine', `${b.slots} at once`];
    if (b.gpus > 0) parts.push(`${b.gpus} GPU${b.gpus === 1 ? '' : 's'}`);
    return `${b.name} (${parts.join(', ')})`;
  }
  if (b.kind === 'remote') {
    const workers = b.workers ?? [];
    if (workers.length === 0) return `${b.name} (remote workers, none connected)`;
    const slots = workers.reduce((n, w) => n + w.slots, 0);
    const gpus = workers.reduce((n, w) => n + w.gpus, 0);
    const parts = [`${workers.length} worker${workers.length === 1 ? '' : 's'}`, `${slots} at once`];
    if (gpus > 0) parts.push(`${gpus} GPU${gpus === 1 ? '' : 's'}`);
    return `${b.name} (remote: ${parts.join(', ')})`;
  }
  return `${b.name} (${b.kind === 'slurm' ? 'Slurm' : b.kind})`;
}

/**
 * The run menu's options, or null when there is nothing to choose (one
 * backend, none, or not known). The first option is the server's default.
 */
export function backendOptions(backends: readonly Backend[] | null): BackendOption[] | null {
  if (!backends || backends.length < 2) return null;
  const d = defaultBackend(backends)!;
  // Short labels (the menu sits in the toolbar); the details are in the titles.
  return [
    {
      value: '',
      label: `Default (${d.name})`,
      title: `The server's routing: ${describeBackend(d)}, unless its kiln.toml sends this pipeline (or one of its operations) elsewhere`,
    },
    ...backends.map((b) => ({
      value: b.name,
      label: b.name,
      title: `Every job on ${describeBackend(b)}, unless its operation names another backend`,
    })),
  ];
}

/** The request's `backend` field for a choice: absent for the default. */
export function backendField(choice: BackendChoice): { backend?: string } {
  return choice === '' ? {} : { backend: choice };
}

/** The storage the choice is remembered in: window.localStorage, or a fake in tests. */
export type ChoiceStorage = Pick<Storage, 'getItem' | 'setItem' | 'removeItem'>;

export function choiceKey(project: string): string {
  return `kiln.run-backend.${project}`;
}

/**
 * The remembered choice for `project`, if it still names one of `backends`
 * (a backend removed from the config falls back to the default). Storage
 * that throws (private browsing, disabled) counts as empty.
 */
export function rememberedChoice(storage: ChoiceStorage | null, project: string, backends: readonly Backend[] | null): BackendChoice {
  let name: string | null = null;
  try {
    name = storage?.getItem(choiceKey(project)) ?? null;
  } catch {
    return '';
  }
  return validChoice(name ?? '', backends);
}

/**
 * `choice` if there is a choice to make and it names one of `backends`, else
 * "" (the default): with one backend nothing is sent, and a backend gone
 * from the server's config is never asked for.
 */
export function validChoice(choice: BackendChoice, backends: readonly Backend[] | null): BackendChoice {
  if (choice === '' || backendOptions(backends) === null) return '';
  return backends!.some((b) => b.name === choice) ? choice : '';
}

export function rememberChoice(storage: ChoiceStorage | null, project: string, choice: BackendChoice): void {
  try {
    if (choice === '') storage?.removeItem(choiceKey(project));
    else storage?.setItem(choiceKey(project), choice);
  } catch {
    /* not remembered: the choice still applies to this page */
  }
}
