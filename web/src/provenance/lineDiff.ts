// A line diff of two texts (an operation's code as two jobs ran it), and its
// hunks with a few lines of context, for the compare view. Pure.
//
// The longest common subsequence of the lines, by dynamic programming over
// what is left once the common head and tail are cut off (an edited file
// usually differs in a few places, so the table stays small). Past
// MAX_CELLS the middle is shown as removed then added rather than spending
// seconds on a table: a diff of two unrelated large files says nothing more.

export type DiffLine =
  | { readonly kind: 'same'; readonly text: string; readonly a: number; readonly b: number }
  | { readonly kind: 'del'; readonly text: string; readonly a: number }
  | { readonly kind: 'add'; readonly text: string; readonly b: number };

const MAX_CELLS = 4_000_000;

function splitLines(s: string): string[] {
  if (s === '') return [];
  const lines = s.split(/\r?\n/);
  if (lines[lines.length - 1] === '') lines.pop(); // a final newline ends the last line; it is not one more
  return lines;
}

/** Every line of both texts, in order, marked same/del/add; line numbers are 1-based. */
export function lineDiff(a: string, b: string): DiffLine[] {
  const x = splitLines(a);
  const y = splitLines(b);
  let head = 0;
  while (head < x.length && head < y.length && x[head] === y[head]) head++;
  let tail = 0;
  while (tail < x.length - head && tail < y.length - head && x[x.length - 1 - tail] === y[y.length - 1 - tail]) tail++;
  const out: DiffLine[] = [];
  for (let i = 0; i < head; i++) out.push({ kind: 'same', text: x[i]!, a: i + 1, b: i + 1 });
  const xm = x.slice(head, x.length - tail);
  const ym = y.slice(head, y.length - tail);
  out.push(...middle(xm, ym, head));
  for (let k = tail; k > 0; k--) {
    const i = x.length - k;
    const j = y.length - k;
    out.push({ kind: 'same', text: x[i]!, a: i + 1, b: j + 1 });
  }
  return out;
}

function middle(x: readonly string[], y: readonly string[], offset: number): DiffLine[] {
  const n = x.length;
  const m = y.length;
  const del = (i: number): DiffLine => ({ kind: 'del', text: x[i]!, a: offset + i + 1 });
  const add = (j: number): DiffLine => ({ kind: 'add', text: y[j]!, b: offset + j + 1 });
  if (n * m > MAX_CELLS) return [...x.map((_, i) => del(i)), ...y.map((_, j) => add(j))];
  // lcs[i][j]: the LCS length of x[i..] and y[j..], in one flat array.
  const w = m + 1;
  const lcs = new Uint32Array((n + 1) * w);
  for (let i = n - 1; i >= 0; i--)
    for (let j = m - 1; j >= 0; j--)
      lcs[i * w + j] = x[i] === y[j] ? lcs[(i + 1) * w + j + 1]! + 1 : Math.max(lcs[(i + 1) * w + j]!, lcs[i * w + j + 1]!);
  const out: DiffLine[] = [];
  let i = 0;
  let j = 0;
  while (i < n && j < m) {
    if (x[i] === y[j]) {
      out.push({ kind: 'same', text: x[i]!, a: offset + i + 1, b: offset + j + 1 });
      i++;
      j++;
    } else if (lcs[(i + 1) * w + j]! >= lcs[i * w + j + 1]!) out.push(del(i++));
    else out.push(add(j++));
  }
  while (i < n) out.push(del(i++));
  while (j < m) out.push(add(j++));
  return out;
}

export interface Hunk {
  /** First line of the hunk in each text (1-based; for an empty side, the line it comes after). */
  readonly aStart: number;
  readonly bStart: number;
  readonly lines: readonly DiffLine[];
}

/** The changed lines with `context` unchanged lines around each change; nearby changes share a hunk. */
export function hunks(lines: readonly DiffLine[], context = 3): Hunk[] {
  const changed = lines.map((l, i) => (l.kind === 'same' ? -1 : i)).filter((i) => i >= 0);
  const out: Hunk[] = [];
  let k = 0;
  while (k < changed.length) {
    const start = Math.max(0, changed[k]! - context);
    let end = Math.min(lines.length, changed[k]! + context + 1);
    while (k + 1 < changed.length && changed[k + 1]! - context <= end) {
      k++;
      end = Math.min(lines.length, changed[k]! + context + 1);
    }
    k++;
    const slice = lines.slice(start, end);
    out.push({ aStart: firstNumber(lines, start, 'a'), bStart: firstNumber(lines, start, 'b'), lines: slice });
  }
  return out;
}

function firstNumber(lines: readonly DiffLine[], from: number, side: 'a' | 'b'): number {
  for (let i = from; i < lines.length; i++) {
    const l = lines[i]!;
    const n = side === 'a' ? (l.kind === 'add' ? undefined : l.a) : l.kind === 'del' ? undefined : l.b;
    if (n !== undefined) return n;
  }
  // Only lines of the other side from here on: it comes after the side's last line before.
  for (let i = from - 1; i >= 0; i--) {
    const l = lines[i]!;
    const n = side === 'a' ? (l.kind === 'add' ? undefined : l.a) : l.kind === 'del' ? undefined : l.b;
    if (n !== undefined) return n + 1;
  }
  return 1;
}

/** Whether two texts differ in any line (a final newline alone does not count). */
export function changedLines(lines: readonly DiffLine[]): number {
  return lines.filter((l) => l.kind !== 'same').length;
}
