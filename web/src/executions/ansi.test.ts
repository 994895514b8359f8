import { describe, expect, it } from 'vitest';
import { colour256, parseAnsi, stripAnsi } from './ansi';

describe('ANSI', () => {
  it('leaves plain text alone', () => {
    expect(parseAnsi('epoch 1/15: loss 0.42').segments).toEqual([{ text: 'epoch 1/15: loss 0.42', style: {} }]);
  });

  it('styles colours, bold and resets', () => {
    const { segments } = parseAnsi('\x1b[1;31mError\x1b[0m: bad \x1b[32mok\x1b[39m.');
    expect(segments).toEqual([
      { text: 'Error', style: { fg: '#cd3131', bold: true } },
      { text: ': bad ', style: {} },
      { text: 'ok', style: { fg: '#107c10' } },
      { text: '.', style: {} },
    ]);
  });

  it('handles 256 and 24-bit colours, backgrounds and inverse', () => {
    expect(parseAnsi('\x1b[38;5;196mx').segments[0]!.style.fg).toBe('#ff0000');
    expect(parseAnsi('\x1b[48;2;1;2;3mx').segments[0]!.style.bg).toBe('#010203');
    expect(parseAnsi('\x1b[7mx').segments[0]!.style).toEqual({ fg: '#ffffff', bg: '#1f2328' });
    expect(colour256(232)).toBe('#080808');
    expect(colour256(300)).toBeUndefined();
  });

  it('carries the style across lines and drops other control sequences', () => {
    const first = parseAnsi('\x1b[33mwarn');
    const second = parseAnsi('still\x1b[2K\x1b[1Gyellow', first.style);
    expect(second.segments).toEqual([{ text: 'stillyellow', style: { fg: '#946300' } }]);
    expect(stripAnsi('\x1b]0;title\x07a\x1b[0mb')).toBe('ab');
  });
});
