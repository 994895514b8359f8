// A small JSON artifact's value on one line (the whole of it in the title):
// the value the server sent, else fetched once by digest (bytes by digest
// never change). Used by a job's outputs tab and the artifacts view.
import { useEffect, useState } from 'react';
import { errorFromResponse } from '@kiln/client';
import type { JsonValue } from '../model';
import { fullText, inlineText, parseValue } from './value';
import './artifacts.css';

export function InlineValue({
  value,
  url,
  headers,
  max = 60,
}: {
  /** The value when the server sent it. */
  value?: JsonValue | undefined;
  /** Where to fetch the bytes otherwise. */
  url?: string | undefined;
  headers?: Readonly<Record<string, string>> | undefined;
  max?: number;
}) {
  const [fetched, setFetched] = useState<{ v: JsonValue } | 'error' | null>(null);
  useEffect(() => {
    if (value !== undefined || !url) return;
    const abort = new AbortController();
    setFetched(null);
    fetch(url, { headers: { ...headers }, credentials: 'same-origin', signal: abort.signal })
      .then(async (res) => {
        const text = await res.text();
        if (!res.ok) throw errorFromResponse(res.status, res.statusText, text);
        const v = parseValue(text);
        setFetched(v === undefined ? 'error' : { v });
      })
      .catch(() => !abort.signal.aborted && setFetched('error'));
    return () => abort.abort();
    // headers: the client's, fixed for its lifetime.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [value, url]);
  const v = value !== undefined ? { v: value } : fetched;
  if (v === null) return <span className="muted small">…</span>;
  if (v === 'error') return <span className="muted small">(value unavailable)</span>;
  return (
    <code className="inline-value" title={fullText(v.v)}>
      {inlineText(v.v, max)}
    </code>
  );
}
