// The server's compute backends for the views (run menu, sweep dialog,
// Resources section), asked once per client: they come from the server's
// config file and change only when it restarts. A server without the route
// (404) has one backend; other failures are asked again next time.
import { useCallback, useEffect, useState } from 'react';
import { ApiError, type Backend, type KilnClient } from '@kiln/client';
import { rememberChoice, rememberedChoice, validChoice, type BackendChoice, type ChoiceStorage } from './backends';

const asked = new WeakMap<KilnClient, Promise<Backend[]>>();

function backendsOf(client: KilnClient): Promise<Backend[]> {
  let p = asked.get(client);
  if (!p) {
    p = client.listBackends().catch((e: unknown) => {
      if (e instanceof ApiError && e.status === 404) return [];
      asked.delete(client);
      throw e;
    });
    asked.set(client, p);
  }
  return p;
}

/** The backends; null while asked or when they could not be read (no choice is offered then). */
export function useBackends(client: KilnClient): readonly Backend[] | null {
  const [backends, setBackends] = useState<readonly Backend[] | null>(null);
  useEffect(() => {
    let live = true;
    backendsOf(client).then(
      (list) => live && setBackends(list),
      () => live && setBackends(null),
    );
    return () => {
      live = false;
    };
  }, [client]);
  return backends;
}

function browserStorage(): ChoiceStorage | null {
  try {
    return typeof window === 'undefined' ? null : window.localStorage;
  } catch {
    return null;
  }
}

/** Where this project's runs go, remembered in localStorage; "" = the server's default. */
export function useRunBackend(project: string, backends: readonly Backend[] | null): [BackendChoice, (c: BackendChoice) => void] {
  // What was picked on this page; null: what the storage says.
  const [picked, setPicked] = useState<{ project: string; choice: BackendChoice } | null>(null);
  const choice =
    picked && picked.project === project ? validChoice(picked.choice, backends) : rememberedChoice(browserStorage(), project, backends);
  const set = useCallback(
    (c: BackendChoice) => {
      setPicked({ project, choice: c });
      rememberChoice(browserStorage(), project, c);
    },
    [project],
  );
  return [choice, set];
}
