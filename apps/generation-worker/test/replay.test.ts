/**
 * Histories recorded by the previous release replay with today's workflow code (Temporal's determinism check).
 * `fixtures/histories/*.json` are RubyWorkflow runs recorded (`fetchHistory()`) when the model params were checked by
 * the `validateModelRequests` local activity: their histories hold its marker, which today's code (the check runs in
 * workflow code) no longer schedules. One completed with a warning, one failed on an invalid param.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Worker } from '@temporalio/worker';
import { workflowBundle } from './harness.js';

const fixture = (name: string) =>
  JSON.parse(readFileSync(resolve(import.meta.dirname, 'fixtures/histories', `${name}.json`), 'utf8')) as {
    workflowId: string;
    history: unknown;
  };
const markers = (history: unknown) =>
  (
    history as {
      events: { eventType: string; markerRecordedEventAttributes?: { details?: { data?: { payloads?: { data: string }[] } } } }[];
    }
  ).events
    .filter((e) => e.eventType === 'EVENT_TYPE_MARKER_RECORDED')
    .map((e) => Buffer.from(e.markerRecordedEventAttributes!.details!.data!.payloads![0]!.data, 'base64').toString());

describe('replay of histories from before the model check moved into workflow code', () => {
  it.each(['ruby-warnings', 'ruby-invalid-params'])(
    '%s replays without a nondeterminism error',
    async (name) => {
      const { workflowId, history } = fixture(name);
      // The old local activity is in the history: the fixture is what it claims to be.
      expect(markers(history).some((m) => m.includes('"activity_type":"validateModelRequests"'))).toBe(true);
      await expect(Worker.runReplayHistory({ workflowBundle: await workflowBundle() }, history, workflowId)).resolves.toBeUndefined();
    },
    120_000,
  );
});
