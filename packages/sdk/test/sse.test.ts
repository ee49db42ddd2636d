import { describe, expect, it } from 'vitest';
import { SseParser, parseSse, type SseEvent } from '../src/sse.js';

/** Feeds `text` cut at every given offset and returns what was dispatched (and the comments seen). */
function feedInPieces(text: string, cuts: number[]): { events: SseEvent[]; comments: string[]; retries: number[] } {
  const events: SseEvent[] = [];
  const comments: string[] = [];
  const retries: number[] = [];
  const parser = new SseParser({ onEvent: (e) => events.push(e), onComment: (c) => comments.push(c), onRetry: (r) => retries.push(r) });
  let last = 0;
  for (const cut of [...cuts, text.length]) {
    parser.feed(text.slice(last, cut));
    last = cut;
  }
  parser.end();
  return { events, comments, retries };
}

const STREAM =
  ': hello\n' +
  'retry: 2500\n' +
  'id: 1\n' +
  'event: progress\n' +
  'data: {"status":"running",\n' +
  'data: "current_step":null}\n' +
  '\n' +
  ':heartbeat\n' +
  '\n' +
  'id: 2\r\n' +
  'event: completed\r\n' +
  'data: {"id":"gen_1"}\r\n' +
  '\r\n';

describe('SseParser', () => {
  it('joins multi-line data with newlines and keeps event names, ids and retry', () => {
    const { events, comments, retries } = feedInPieces(STREAM, []);
    expect(events).toEqual([
      { event: 'progress', data: '{"status":"running",\n"current_step":null}', id: '1', retry: 2500 },
      { event: 'completed', data: '{"id":"gen_1"}', id: '2', retry: 2500 },
    ]);
    expect(JSON.parse(events[0]!.data)).toEqual({ status: 'running', current_step: null });
    expect(comments).toEqual(['hello', 'heartbeat']);
    expect(retries).toEqual([2500]);
  });

  it('gives the same result for every way of cutting the stream into two or three chunks', () => {
    const whole = feedInPieces(STREAM, []);
    for (let a = 1; a < STREAM.length; a++) {
      expect(feedInPieces(STREAM, [a]), `cut at ${a}`).toEqual(whole);
    }
    for (let a = 1; a < STREAM.length; a += 3) {
      for (let b = a + 1; b < STREAM.length; b += 5) expect(feedInPieces(STREAM, [a, b]), `cuts at ${a},${b}`).toEqual(whole);
    }
    // One character at a time.
    expect(feedInPieces(STREAM, [...STREAM].map((_, i) => i + 1).slice(0, -1))).toEqual(whole);
  });

  it('treats CR, LF and CRLF as line ends, including a CRLF split across chunks', () => {
    const cr = 'event: a\rdata: x\r\rdata: y\r\n\r\n';
    expect(parseSse(cr).map((e) => [e.event, e.data])).toEqual([
      ['a', 'x'],
      ['message', 'y'],
    ]);
    // "\r" ends a chunk and "\n" starts the next: one line end, not two (which would dispatch early).
    const { events } = feedInPieces('data: one\r\ndata: two\r\n\r\n', ['data: one\r'.length]);
    expect(events.map((e) => e.data)).toEqual(['one\ntwo']);
  });

  it('strips one leading space only, handles lines without colon, and ignores unknown fields', () => {
    const events = parseSse('data:  two spaces\nfoo: bar\ndata\n\n');
    expect(events).toEqual([{ event: 'message', data: ' two spaces\n', id: '', retry: undefined }]);
  });

  it('does not dispatch events without data, but they still set the id', () => {
    const events = parseSse('id: 7\nevent: progress\n\ndata: after\n\n');
    expect(events).toEqual([{ event: 'message', data: 'after', id: '7', retry: undefined }]);
  });

  it('ignores retry values that are not digits and ids containing NUL', () => {
    const events = parseSse('retry: soon\nid: 3\ndata: a\n\nid: x\u0000y\ndata: b\n\nretry: 10\ndata: c\n\n');
    expect(events.map((e) => [e.data, e.id, e.retry])).toEqual([
      ['a', '3', undefined],
      ['b', '3', undefined],
      ['c', '3', 10],
    ]);
  });

  it('resets the id with an empty id field and starts from the id it was given (resume)', () => {
    const events: SseEvent[] = [];
    const parser = new SseParser({ onEvent: (e) => events.push(e) }, '41');
    parser.feed('data: x\n\nid\ndata: y\n\n');
    expect(events.map((e) => e.id)).toEqual(['41', '']);
    expect(parser.lastId).toBe('');
  });

  it('drops a leading BOM and discards an unterminated final event', () => {
    const events = parseSse('\uFEFFdata: first\n\ndata: cut off');
    expect(events.map((e) => e.data)).toEqual(['first']);
    // A BOM later in the stream is data.
    expect(parseSse('data: \uFEFFx\n\n')[0]!.data).toBe('\uFEFFx');
  });

  it('handles multi-byte characters split across network chunks when fed through a streaming TextDecoder', () => {
    const bytes = new TextEncoder().encode('data: café 🎬\n\n');
    const events: SseEvent[] = [];
    const parser = new SseParser({ onEvent: (e) => events.push(e) });
    const decoder = new TextDecoder();
    for (let i = 0; i < bytes.length; i++) parser.feed(decoder.decode(bytes.subarray(i, i + 1), { stream: true }));
    parser.feed(decoder.decode());
    expect(events.map((e) => e.data)).toEqual(['café 🎬']);
  });
});
