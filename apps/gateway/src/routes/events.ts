import type { ServerResponse } from 'node:http';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { GenerationIdParams, isTerminalStatus, type Generation, type ProgressEvent } from '@gptmarket/contracts';
import type { GenerationRow } from '@gptmarket/db';
import type { Logger } from '@gptmarket/runtime';
import { callerOf } from '../plugins/auth.js';
import type { GenerationFeed } from '../services/generation-feed.js';
import type { GenerationObserver } from '../services/generation-observer.js';
import type { GenerationRecords } from '../services/generation-records.js';

export interface EventRoutesOptions {
  records: GenerationRecords;
  observer: GenerationObserver;
  feed: GenerationFeed;
  /** SSE_HEARTBEAT_MS: a comment this often keeps proxies from closing a quiet stream. */
  heartbeatMs: number;
  /** Whether this process's tracker follows the generation (its record is then as fresh as the workflow). */
  follows: (id: string) => boolean;
  log: Logger;
}

/** The server-sent events wire format (`ProgressEvent` in packages/contracts describes the events). */
const sseEvent = (id: number, event: string, data: ProgressEvent | Generation) =>
  `id: ${id}\nevent: ${event}\ndata: ${JSON.stringify(data)}\n\n`;

/**
 * `GET /v1/generations/:id/events`: `progress` on every change the caller has not seen (the event id is the record's
 * revision, so `Last-Event-ID` resumes), then one final event named after the terminal status with the whole
 * record (media URLs made now), then the stream ends.
 */
export const eventRoutes: FastifyPluginAsyncZod<EventRoutesOptions> = async (
  app,
  { records, observer, feed, heartbeatMs, follows, log },
) => {
  app.get(
    '/v1/generations/:id/events',
    {
      schema: {
        summary: 'Progress as server-sent events: `progress` on every change, then `completed`, `failed` or `cancelled`',
        params: GenerationIdParams,
        produces: ['text/event-stream'],
      },
    },
    async (req, reply) => {
      let row = await records.get(req.params.id, callerOf(req));
      const lastHeader = req.headers['last-event-id'];
      let sent = typeof lastHeader === 'string' && /^\d{1,9}$/.test(lastHeader) ? Number(lastHeader) : -1;
      reply.hijack();
      const raw: ServerResponse = reply.raw;
      raw.writeHead(200, {
        ...(reply.getHeaders() as Record<string, string>),
        'x-request-id': req.id,
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-cache, no-transform',
        connection: 'keep-alive',
        'x-accel-buffering': 'no',
      });
      raw.write('retry: 2000\n\n');
      let closed = false;
      const close = () => {
        if (closed) return;
        closed = true;
        unsubscribe();
        clearInterval(heartbeat);
        raw.end();
      };
      let finishing = false;
      const send = (next: GenerationRow) => {
        if (closed || finishing) return;
        const terminal = isTerminalStatus(next.status);
        if (!terminal && next.revision <= sent) return;
        sent = Math.max(sent, next.revision);
        if (!terminal) {
          raw.write(sseEvent(next.revision, 'progress', { status: next.status, current_step: next.currentStep ?? null }));
          return;
        }
        // The final event carries the whole record (media URLs made now); nothing is sent after it.
        finishing = true;
        records.toApi(next).then(
          (data) => {
            if (!closed) raw.write(sseEvent(next.revision, next.status, data));
            close();
          },
          (err: Error) => {
            log.warn('final event failed', { requestId: req.id, error: err.message });
            close();
          },
        );
      };
      const unsubscribe = feed.subscribe(row.id, send);
      const heartbeat = setInterval(() => raw.write(': heartbeat\n\n'), heartbeatMs);
      raw.on('close', close);
      try {
        // A followed generation's record is current (the tracker writes each change as it happens): no need to ask.
        if (!follows(row.id)) row = await observer.refresh(row);
      } catch {
        /* the tracker will catch up */
      }
      send(row);
    },
  );
};
