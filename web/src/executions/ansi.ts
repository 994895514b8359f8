// ANSI escape sequences in job logs → styled text segments. Handles SGR
// (colours: 8/16, 256 and 24-bit; bold, dim, italic, underline, inverse,
// resets) and drops every other control sequence (cursor moves, clears) so
// they never show as garbage.

export interface AnsiStyle {
  readonly fg?: string;
  readonly bg?: string;
  readonly bold?: boolean;
  readonly dim?: boolean;
  readonly italic?: boolean;
  readonly underline?: boolean;
}

export interface AnsiSegment {
  readonly text: string;
  readonly style: AnsiStyle;
}

// A readable palette on a light background (VS Code light-ish).
const BASE = ['#1f2328', '#cd3131', '#107c10', '#946300', '#0451a5', '#bc05bc', '#0598bc', '#555555'];
const BRIGHT = ['#666666', '#e5484d', '#2da44e', '#b08800', '#2f6feb', '#d12fd1', '#1a9fbf', '#8c959f'];

export function colour256(n: number): string | undefined {
  if (!Number.isInteger(n) || n < 0 || n > 255) return undefined;
  if (n < 8) return BASE[n];
  if (n < 16) return BRIGHT[n - 8];
  if (n < 232) {
    const i = n - 16;
    const v = (x: number) => (x === 0 ? 0 : 55 + x * 40);
    return rgb(v(Math.floor(i / 36)), v(Math.floor(i / 6) % 6), v(i % 6));
  }
  const g = 8 + (n - 232) * 10;
  return rgb(g, g, g);
}

function rgb(r: number, g: number, b: number): string {
  const h = (x: number) => Math.max(0, Math.min(255, x)).toString(16).padStart(2, '0');
  return `#${h(r)}${h(g)}${h(b)}`;
}

// CSI ... final byte, OSC ... BEL/ST, or a lone ESC + one char.
// eslint-disable-next-line no-control-regex
const ESCAPE = /\x1b\[([0-9;?]*)([@-~])|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[@-Z\\-_]/g;

interface MutableStyle {
  fg?: string | undefined;
  bg?: string | undefined;
  bold?: boolean;
  dim?: boolean;
  italic?: boolean;
  underline?: boolean;
  inverse?: boolean;
}

function applySgr(style: MutableStyle, params: string): void {
  const codes = params === '' ? [0] : params.split(';').map((p) => (p === '' ? 0 : Number(p)));
  for (let i = 0; i < codes.length; i++) {
    const c = codes[i]!;
    if (c === 0) {
      for (const k of Object.keys(style)) delete style[k as keyof MutableStyle];
    } else if (c === 1) style.bold = true;
    else if (c === 2) style.dim = true;
    else if (c === 3) style.italic = true;
    else if (c === 4) style.underline = true;
    else if (c === 7) style.inverse = true;
    else if (c === 22) {
      style.bold = false;
      style.dim = false;
    } else if (c === 23) style.italic = false;
    else if (c === 24) style.underline = false;
    else if (c === 27) style.inverse = false;
    else if (c >= 30 && c <= 37) style.fg = BASE[c - 30];
    else if (c >= 90 && c <= 97) style.fg = BRIGHT[c - 90];
    else if (c === 39) style.fg = undefined;
    else if (c >= 40 && c <= 47) style.bg = BASE[c - 40];
    else if (c >= 100 && c <= 107) style.bg = BRIGHT[c - 100];
    else if (c === 49) style.bg = undefined;
    else if (c === 38 || c === 48) {
      let colour: string | undefined;
      if (codes[i + 1] === 5) {
        colour = colour256(codes[i + 2] ?? -1);
        i += 2;
      } else if (codes[i + 1] === 2) {
        colour = rgb(codes[i + 2] ?? 0, codes[i + 3] ?? 0, codes[i + 4] ?? 0);
        i += 4;
      }
      if (c === 38) style.fg = colour;
      else style.bg = colour;
    }
  }
}

function snapshot(s: MutableStyle): AnsiStyle {
  const out: { -readonly [K in keyof AnsiStyle]: AnsiStyle[K] } = {};
  let fg = s.fg;
  let bg = s.bg;
  if (s.inverse) [fg, bg] = [bg ?? '#ffffff', fg ?? BASE[0]];
  if (fg) out.fg = fg;
  if (bg) out.bg = bg;
  if (s.bold) out.bold = true;
  if (s.dim) out.dim = true;
  if (s.italic) out.italic = true;
  if (s.underline) out.underline = true;
  return out;
}

/**
 * Splits one line into styled segments. `carry` is the style at the start of
 * the line (SGR state runs on across lines, as in a terminal); the style at
 * the end is returned for the next line.
 */
export function parseAnsi(line: string, carry: AnsiStyle = {}): { segments: AnsiSegment[]; style: AnsiStyle } {
  const style: MutableStyle = { ...carry };
  const segments: AnsiSegment[] = [];
  let last = 0;
  const push = (text: string) => {
    if (text === '') return;
    const st = snapshot(style);
    const prev = segments[segments.length - 1];
    if (prev && sameStyle(prev.style, st)) segments[segments.length - 1] = { text: prev.text + text, style: st };
    else segments.push({ text, style: st });
  };
  for (const m of line.matchAll(ESCAPE)) {
    push(line.slice(last, m.index));
    last = m.index + m[0].length;
    if (m[2] === 'm') applySgr(style, m[1] ?? '');
  }
  push(line.slice(last));
  return { segments, style: snapshot(style) };
}

function sameStyle(a: AnsiStyle, b: AnsiStyle): boolean {
  return (
    a.fg === b.fg && a.bg === b.bg && !!a.bold === !!b.bold && !!a.dim === !!b.dim && !!a.italic === !!b.italic && !!a.underline === !!b.underline
  );
}

/** The text without any escape sequence. */
export function stripAnsi(s: string): string {
  return s.replace(ESCAPE, '');
}
