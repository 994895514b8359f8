// The job's console: log lines with ANSI colours, stderr tinted, following
// the end while the user has not scrolled up.
import { useEffect, useMemo, useRef, type CSSProperties } from 'react';
import { parseAnsi, type AnsiStyle } from './ansi';
import type { LogLine } from './events';

function css(s: AnsiStyle): CSSProperties | undefined {
  if (!s.fg && !s.bg && !s.bold && !s.dim && !s.italic && !s.underline) return undefined;
  return {
    color: s.fg,
    background: s.bg,
    fontWeight: s.bold ? 700 : undefined,
    opacity: s.dim ? 0.7 : undefined,
    fontStyle: s.italic ? 'italic' : undefined,
    textDecoration: s.underline ? 'underline' : undefined,
  };
}

export function Console({ lines, waiting }: { lines: readonly LogLine[]; waiting: string | null }) {
  const box = useRef<HTMLDivElement>(null);
  const follow = useRef(true);
  const rendered = useMemo(() => {
    let carry: AnsiStyle = {};
    return lines.map((l) => {
      const r = parseAnsi(l.line, carry);
      carry = r.style;
      return { ...l, segments: r.segments };
    });
  }, [lines]);
  useEffect(() => {
    const el = box.current;
    if (el && follow.current) el.scrollTop = el.scrollHeight;
  }, [rendered]);
  return (
    <div
      className="console"
      ref={box}
      data-testid="console"
      onScroll={(e) => {
        const el = e.currentTarget;
        follow.current = el.scrollHeight - el.scrollTop - el.clientHeight < 24;
      }}
    >
      {rendered.length === 0 && <div className="console-empty">{waiting ?? 'No output.'}</div>}
      {rendered.map((l) => (
        <div key={l.seq} className={`console-line ${l.stream}`}>
          {l.segments.map((s, i) => (
            <span key={i} style={css(s.style)}>
              {s.text}
            </span>
          ))}
          {l.segments.length === 0 && '\u00a0'}
        </div>
      ))}
    </div>
  );
}
