import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger, pinoOf, redactUrl } from '../src/log.js';

/** A logger writing into an array of parsed lines. */
function capture(level = 'debug') {
  const lines: Record<string, any>[] = [];
  const stream = new Writable({
    write(chunk, _enc, done) {
      for (const line of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(line));
      done();
    },
  });
  return { lines, log: createLogger('svc', level, stream) };
}

describe('the log format', () => {
  it('is one JSON line: ISO time, level word, service, msg, then the fields', () => {
    const { lines, log } = capture();
    log.info('hello', { generation_id: 'gen_1', n: 2 });
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ level: 'info', service: 'svc', msg: 'hello', generation_id: 'gen_1', n: 2 });
    expect(new Date(lines[0]!.time).toISOString()).toBe(lines[0]!.time);
  });

  it('drops lines below the level', () => {
    const { lines, log } = capture('warn');
    log.info('quiet');
    log.debug('quieter');
    log.warn('loud');
    expect(lines.map((l) => l.msg)).toEqual(['loud']);
  });

  it('redacts secret-looking fields at any depth, and request headers by path', () => {
    const { lines, log } = capture();
    log.info('call', {
      api_key: 'sk-top',
      secret_key: 'wf-secret',
      nested: { deeper: { password: 'hunter2', ok: 'visible' }, list: [{ authorization: 'Bearer abc' }] },
    });
    pinoOf(log, 'svc').info({ req: { headers: { 'x-api-key': 'gmk_header', cookie: 'sid=1', host: 'h' } } }, 'access');
    const text = JSON.stringify(lines);
    for (const secret of ['sk-top', 'wf-secret', 'hunter2', 'Bearer abc', 'gmk_header', 'sid=1']) expect(text).not.toContain(secret);
    expect(lines[0]!.nested.deeper).toEqual({ password: '[redacted]', ok: 'visible' });
    expect(lines[0]!.nested.list).toEqual([{ authorization: '[redacted]' }]);
    expect(lines[1]!.req.headers).toEqual({ 'x-api-key': '[redacted]', cookie: '[redacted]', host: 'h' });
  });

  it('redacts secret query values in URLs and keeps the rest', () => {
    expect(redactUrl('/v1/generations?limit=5&token=abc&X-Amz-Signature=ff')).toBe(
      '/v1/generations?limit=5&token=%5Bredacted%5D&X-Amz-Signature=%5Bredacted%5D',
    );
    expect(redactUrl('/health')).toBe('/health');
  });
});
