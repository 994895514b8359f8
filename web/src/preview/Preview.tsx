// What an artifact holds, without a download: asks the server for its
// preview (python/kiln/preview.py behind GET …/artifacts/{digest}/preview)
// and draws each kind: a JSON value pretty-printed, an array's statistics
// with its image (2-D), one image per band (cubes) or a line and histogram
// (1-D), a state dict's tensors, a FITS file's HDUs (header cards, image,
// columns), a table's first rows, text, or what little is known of binary
// bytes. Used by the artifacts view, a job's outputs and the lineage view.
import { useEffect, useRef, useState } from 'react';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { ApiError, type ArtifactPreview, type ArrayPreview, type FitsHdu, type KilnClient, type PreviewBandImage, type PreviewPlot, type PreviewStats } from '@kiln/client';
import { describeError } from '../ui/format';
import { cellText, formatCount, formatShape, headerEntries, histogramBars, isNumeric, lineData, prettyJson, statsEntries, summary } from './model';
import './preview.css';

type Load = { kind: 'loading' } | { kind: 'error'; message: string } | { kind: 'ready'; preview: ArtifactPreview };

/** Fetches and shows the preview of one artifact (fetched again only when the digest or serializer changes). */
export function Preview({
  client,
  project,
  digest,
  serializer,
  name,
}: {
  client: KilnClient;
  project: string;
  digest: string;
  serializer?: string | undefined;
  /** For the images' alt text. */
  name?: string | undefined;
}) {
  const [load, setLoad] = useState<Load>({ kind: 'loading' });
  useEffect(() => {
    const abort = new AbortController();
    setLoad({ kind: 'loading' });
    client.artifactPreview(project, digest, serializer, abort.signal).then(
      (preview) => setLoad({ kind: 'ready', preview }),
      (e: unknown) => {
        if (abort.signal.aborted) return;
        setLoad({ kind: 'error', message: e instanceof ApiError && e.status !== 0 ? e.message : describeError(e) });
      },
    );
    return () => abort.abort();
  }, [client, project, digest, serializer]);
  if (load.kind === 'loading') return <p className="muted small preview-state">Loading the preview…</p>;
  if (load.kind === 'error')
    return (
      <p className="form-error small preview-state" role="alert">
        No preview: {load.message}
      </p>
    );
  return <PreviewBody preview={load.preview} name={name ?? digest.slice(0, 12)} />;
}

/** A preview the server sent, drawn by kind. */
export function PreviewBody({ preview, name }: { preview: ArtifactPreview; name: string }) {
  return (
    <div className={`preview preview-${preview.kind}`} data-testid="preview" data-kind={preview.kind}>
      <div className="preview-summary muted small">{summary(preview)}</div>
      <Kind preview={preview} name={name} />
    </div>
  );
}

function Kind({ preview: p, name }: { preview: ArtifactPreview; name: string }) {
  switch (p.kind) {
    case 'json':
      return (
        <pre className="preview-json">
          {prettyJson(p.value)}
          {p.truncated ? '\n…' : ''}
        </pre>
      );
    case 'array':
      return <ArrayView p={p} name={name} />;
    case 'state_dict':
      return (
        <>
          <table className="table compact preview-table">
            <thead>
              <tr>
                <th>Tensor</th>
                <th>Shape</th>
                <th>dtype</th>
                <th className="num">Parameters</th>
              </tr>
            </thead>
            <tbody>
              {p.tensors.map((t) => (
                <tr key={t.name}>
                  <td className="mono">{t.name}</td>
                  <td className="mono">{formatShape(t.shape)}</td>
                  <td>{t.dtype}</td>
                  <td className="num">{formatCount(t.params)}</td>
                </tr>
              ))}
            </tbody>
          </table>
          {p.count > p.tensors.length && <p className="muted small">… and {p.count - p.tensors.length} more tensors.</p>}
          {p.values && Object.keys(p.values).length > 0 && (
            <Rows columns={['name', 'value']} rows={Object.entries(p.values)} count={null} />
          )}
        </>
      );
    case 'fits':
      return (
        <>
          {p.note && <p className="muted small">{p.note}</p>}
          {p.hdus.map((h, i) => (
            <HduView key={i} hdu={h} name={name} />
          ))}
        </>
      );
    case 'table':
      return <Rows columns={p.columns} rows={p.rows} count={p.count} />;
    case 'text':
      return (
        <pre className="preview-text">
          {p.text}
          {p.truncated ? '\n…' : ''}
        </pre>
      );
    case 'binary':
      return (
        <p className="small">
          <span className="muted">First bytes </span>
          <code>{p.magic.replace(/(..)/g, '$1 ').trim()}</code>
          {p.note && <span className="muted"> · {p.note}</span>}
        </p>
      );
  }
}

function ArrayView({ p, name }: { p: ArrayPreview; name: string }) {
  return (
    <>
      {p.stats && <Stats stats={p.stats} />}
      {p.value !== undefined && <pre className="preview-json">{JSON.stringify(p.value)}</pre>}
      {p.image && <img className="preview-image" src={p.image} alt={`${name} as an image`} />}
      {p.images && <Bands images={p.images} layout={p.layout} name={name} />}
      {p.plot && <Plot1D plot={p.plot} />}
      {p.note && <p className="muted small">{p.note}</p>}
    </>
  );
}

function Stats({ stats }: { stats: PreviewStats }) {
  return (
    <dl className="preview-stats">
      {statsEntries(stats).map(([k, v]) => (
        <div key={k}>
          <dt>{k}</dt>
          <dd className="mono">{v}</dd>
        </div>
      ))}
    </dl>
  );
}

function Bands({ images, layout, name }: { images: readonly PreviewBandImage[]; layout?: string | undefined; name: string }) {
  return (
    <div className="preview-bands-wrap">
      {layout && <div className="muted small">{layout}</div>}
      <div className="preview-bands">
        {images.map((b) => (
          <figure key={b.label}>
            <img src={b.image} alt={`${name}, ${b.label}`} />
            <figcaption>{b.label}</figcaption>
          </figure>
        ))}
      </div>
    </div>
  );
}

const HIST_W = 320;
const HIST_H = 90;

function Plot1D({ plot }: { plot: PreviewPlot }) {
  const host = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const el = host.current;
    if (!el) return;
    const data = lineData(plot.line);
    const envelope = data.length > 2;
    const u = new uPlot(
      {
        width: Math.max(240, Math.min(480, el.clientWidth || 360)),
        height: 140,
        legend: { show: false },
        scales: { x: { time: false } },
        axes: [
          { stroke: '#667085', grid: { stroke: '#eef0f4' }, size: 26, font: '10px system-ui' },
          { stroke: '#667085', grid: { stroke: '#eef0f4' }, size: 46, font: '10px system-ui' },
        ],
        series: [
          { label: 'index' },
          { label: plot.line.bucket ? `mean of ${plot.line.bucket}` : 'value', stroke: '#2563eb', width: 1.5, points: { show: false } },
          ...(envelope
            ? [
                { label: 'min', stroke: '#2563eb40', width: 1, points: { show: false } },
                { label: 'max', stroke: '#2563eb40', width: 1, points: { show: false } },
              ]
            : []),
        ],
      },
      data as uPlot.AlignedData,
      el,
    );
    return () => u.destroy();
  }, [plot]);
  const bars = plot.hist ? histogramBars(plot.hist, HIST_W, HIST_H) : [];
  const edges = plot.hist?.edges ?? [];
  return (
    <div className="preview-plot">
      <div ref={host} className="uplot-host" aria-label="the values by index" />
      {bars.length > 0 && (
        <figure className="preview-hist">
          <svg viewBox={`0 0 ${HIST_W} ${HIST_H + 14}`} role="img" aria-label="histogram of the values">
            {bars.map((b, i) => (
              <rect key={i} x={b.x} y={b.y} width={b.width} height={b.height} fill="#93c5fd">
                <title>{b.title}</title>
              </rect>
            ))}
            <text x={0} y={HIST_H + 12} className="tick">
              {cellText(edges[0])}
            </text>
            <text x={HIST_W} y={HIST_H + 12} textAnchor="end" className="tick">
              {cellText(edges[edges.length - 1])}
            </text>
          </svg>
          <figcaption className="muted small">histogram</figcaption>
        </figure>
      )}
    </div>
  );
}

function HduView({ hdu, name }: { hdu: FitsHdu; name: string }) {
  const cards = headerEntries(hdu.header);
  return (
    <section className="preview-hdu">
      <h4>
        {hdu.name} <span className="muted small">{hdu.type}{hdu.shape ? ` · ${formatShape(hdu.shape)}` : ''}</span>
      </h4>
      <div className="preview-hdu-body">
        <div>
          {hdu.stats && <Stats stats={hdu.stats} />}
          {hdu.image && <img className="preview-image" src={hdu.image} alt={`${name}, ${hdu.name}`} />}
          {hdu.images && <Bands images={hdu.images} layout={hdu.layout} name={`${name}, ${hdu.name}`} />}
          {hdu.columns && hdu.rows && (
            <Rows columns={hdu.columns.map((c) => (c.unit ? `${c.name} [${c.unit}]` : c.name))} rows={hdu.rows} count={hdu.count ?? null} />
          )}
        </div>
        <details className="preview-header" open={!hdu.image && !hdu.images && !hdu.rows}>
          <summary className="small">Header ({cards.length} cards)</summary>
          <table className="table compact">
            <tbody>
              {cards.map(([k, v], i) => (
                <tr key={`${k}${i}`}>
                  <td className="mono">{k}</td>
                  <td className="mono preview-card">{v}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </details>
      </div>
    </section>
  );
}

function Rows({ columns, rows, count }: { columns: readonly string[]; rows: readonly (readonly unknown[])[]; count: number | null }) {
  return (
    <>
      <div className="preview-table-wrap">
        <table className="table compact preview-table">
          <thead>
            <tr>
              {columns.map((c, i) => (
                <th key={i}>{c}</th>
              ))}
            </tr>
          </thead>
          <tbody>
            {rows.map((r, i) => (
              <tr key={i}>
                {r.map((v, j) => (
                  <td key={j} className={isNumeric(v) ? 'num mono' : undefined}>
                    {cellText(v)}
                  </td>
                ))}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {count !== null && count > rows.length && (
        <p className="muted small">
          The first {rows.length} of {formatCount(count)} rows.
        </p>
      )}
    </>
  );
}
