/**
 * The drop-in package against the real stack (Temporal dev server, both workers as processes): a Ruby generation
 * started, followed and read through the helpers, failures with the workflow's own messages, and the
 * `test-connection` command naming what is wrong.
 */
import { execFile } from 'node:child_process';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { AUTH_ERRORS, COMPLETE_STEP, GENERATION_TYPES, GENERATION_TYPE_NAMES, RUBY_STEPS, RubyOutput } from '@gptmarket/contracts';
import { freePort, startStack, type Stack } from '@gptmarket/testkit';
import { getForm } from '@gptmarket/sdk';
import {
  getAllWorkflows,
  getWorkflow,
  getWorkflowIds,
  ruby,
  workflowRegistry,
  type RubyInput,
  type WorkflowProgress,
} from '../src/index.js';
import {
  WorkflowInputError,
  cancelWorkflow,
  configureTemporalClient,
  getTaskQueue,
  getTemporalClient,
  getWorkflowHandle,
  getWorkflowProgress,
  startWorkflow,
  temporalConfigFromEnv,
  waitForWorkflow,
  workflowToken,
} from '../src/server.js';

const run = promisify(execFile);
const pkgDir = resolve(import.meta.dirname, '..');

describe('registry and types (no server)', () => {
  it('has every workflow of the contracts, with its class, names and the SDK form fields (no secret_key)', () => {
    expect(getWorkflowIds()).toEqual(GENERATION_TYPE_NAMES);
    expect(ruby).toMatchObject({
      id: 'ruby',
      name: 'Ruby',
      workflowClass: 'RubyWorkflow',
      inputType: 'RubyInput',
      outputType: 'RubyOutput',
      description: 'Ruby - AI Influencer for Short-form Videos.',
    });
    expect(workflowRegistry.slideshows_pinterest.workflowClass).toBe('SlideshowsPinterestWorkflow');
    for (const w of getAllWorkflows()) {
      expect(w.fields).toEqual(getForm(w.id)!.fields);
      expect(w.workflowClass).toBe(GENERATION_TYPES[w.id as keyof typeof GENERATION_TYPES].workflowType);
    }
    expect(JSON.stringify(workflowRegistry)).not.toContain('secret_key');
    expect(ruby.fields.find((f) => f.name === 'video_duration')).toMatchObject({
      type: 'number',
      default: 5,
      validation: { min: 5, max: 10 },
    });
    expect(getWorkflow('RubyWorkflow')).toBe(ruby);
    expect(getWorkflow('nope')).toBeUndefined();
    // RubyInput is the workflow's input as Python clients send it: secret_key included, everything optional.
    const input: RubyInput = { secret_key: 'x', emotion: 'shocked' };
    expect(GENERATION_TYPES.ruby.input.safeParse(input).success).toBe(true);
  });

  it('reads the connection from the environment: TEMPORAL_ADDRESS over TEMPORAL_HOST, TLS settings, defaults', () => {
    expect(temporalConfigFromEnv({})).toEqual({ address: 'localhost:7233', namespace: 'default', taskQueue: 'generation-queue' });
    expect(temporalConfigFromEnv({ TEMPORAL_HOST: 'h:1', TEMPORAL_ADDRESS: 'a:2' }).address).toBe('a:2');
    expect(temporalConfigFromEnv({ TEMPORAL_HOST: 'h:1', TEMPORAL_ADDRESS: '' }).address).toBe('h:1');
    expect(
      temporalConfigFromEnv({
        TEMPORAL_TLS_CERT: '/c.pem',
        TEMPORAL_TLS_KEY: '/k.pem',
        TEMPORAL_TLS_CA: '/ca.pem',
        TEMPORAL_TLS_SERVER_NAME: 'temporal.internal',
        TEMPORAL_API_KEY: 'k',
        WORKFLOW_SECRET_KEY: 's',
        TEMPORAL_TASK_QUEUE: 'q',
      }),
    ).toMatchObject({
      tls: { cert: '/c.pem', key: '/k.pem', ca: '/ca.pem', serverName: 'temporal.internal' },
      apiKey: 'k',
      secretKey: 's',
      taskQueue: 'q',
    });
  });
});

const stack: Stack = await startStack('temporal_types');
afterAll(async () => {
  configureTemporalClient({ address: 'closed:1' }); // closes the helpers' connection
  await stack.stop();
});

describe('helpers on real Temporal with the real workers', () => {
  it('a Ruby generation: started by workflow type, progress from the queries, the result typed by the contract', async () => {
    configureTemporalClient({ host: stack.temporal.address, namespace: 'default', taskQueue: 'generation-queue', secretKey: stack.secret });
    expect(getTaskQueue()).toBe('generation-queue');
    const { workflowId } = await startWorkflow('RubyWorkflow', { emotion: 'shocked', text_overlay: 'drop-in types', video_duration: 5 });
    expect(workflowId).toMatch(/^ruby-[0-9a-f-]{36}$/);
    // The server added the workflow's token, not the secret: the history never holds the secret.
    const history = await (await getTemporalClient()).workflow.getHandle(workflowId).fetchHistory();
    const payload = history.events![0]!.workflowExecutionStartedEventAttributes!.input!.payloads![0]!;
    const sent = JSON.parse(Buffer.from(payload.data!).toString('utf8')) as Record<string, unknown>;
    expect(sent.secret_key).toBe(workflowToken(stack.secret, workflowId));
    expect(sent.secret_key).toMatch(/^v1\.[0-9a-f]{64}$/);
    expect(JSON.stringify(sent)).not.toContain(stack.secret);
    expect(sent).toMatchObject({ emotion: 'shocked', text_overlay: 'drop-in types', video_duration: 5 });

    const seen: WorkflowProgress[] = [];
    let progress: WorkflowProgress;
    const deadline = Date.now() + 150_000;
    do {
      progress = await getWorkflowProgress(workflowId);
      seen.push(progress);
      if (progress.executionStatus !== 'RUNNING') break;
      // A terminal status only comes with the closed execution (and its result).
      expect(['pending', 'running']).toContain(progress.status);
      await new Promise((r) => setTimeout(r, 250));
    } while (Date.now() < deadline);
    expect(progress.status, progress.error).toBe('completed');
    expect(progress.executionStatus).toBe('COMPLETED');
    const running = seen.filter((p) => p.executionStatus === 'RUNNING' && p.currentStep);
    expect(running.length).toBeGreaterThan(0);
    // `complete` too: a query can land between the last step and the close that describe saw as still running.
    const stepIds = [...Object.values(RUBY_STEPS).map((s) => s.id), COMPLETE_STEP.step_id] as string[];
    for (const p of running) expect(stepIds).toContain(p.currentStep!.step_id);
    const output = RubyOutput.parse(progress.result);
    expect(output.final_video_url).toMatch(/^http/);

    const waited = await waitForWorkflow<RubyOutput>(workflowId, 10_000);
    expect(waited).toEqual({ result: progress.result });
    expect((await getWorkflowHandle(workflowId)).workflowId).toBe(workflowId);
  }, 200_000);

  it('input is checked against the contract before anything starts', async () => {
    const bad = await startWorkflow('ruby', { video_duration: 99 } as RubyInput).catch((e: unknown) => e);
    expect(bad).toBeInstanceOf(WorkflowInputError);
    expect((bad as WorkflowInputError).issues[0]!.path).toBe('video_duration');
    expect((bad as Error).message).not.toContain(stack.secret);
  });

  it('a wrong secret fails with the workflow’s own message; cancel and unknown ids', async () => {
    const { workflowId } = await startWorkflow('hello_world', { name: 'x', secret_key: 'not-the-secret' });
    expect(workflowId).toMatch(/^hello-/);
    expect(await waitForWorkflow(workflowId, 60_000)).toEqual({ error: AUTH_ERRORS.invalid });
    expect(await getWorkflowProgress(workflowId)).toMatchObject({
      status: 'failed',
      executionStatus: 'FAILED',
      error: AUTH_ERRORS.invalid,
    });

    const long = await startWorkflow('ruby', { emotion: 'calm' });
    expect(await cancelWorkflow(long.workflowId)).toEqual({ success: true });
    const cancelled = await waitForWorkflow(long.workflowId, 60_000);
    expect(cancelled.error).toBeDefined();
    expect((await getWorkflowProgress(long.workflowId)).status).toBe('cancelled');

    expect(await getWorkflowProgress('no-such-workflow')).toMatchObject({ status: 'failed', executionStatus: 'NOT_FOUND' });
    expect(await waitForWorkflow('no-such-workflow', 5_000)).toHaveProperty('error');
  }, 120_000);
});

describe('test-connection', () => {
  const cli = async (env: Record<string, string>, args: string[] = []) => {
    const base = {
      PATH: process.env.PATH!,
      HOME: process.env.HOME!,
      TEMPORAL_ADDRESS: stack.temporal.address,
      WORKFLOW_SECRET_KEY: stack.secret,
    };
    try {
      const { stdout } = await run(
        process.execPath,
        ['--import', 'tsx', '--conditions=@gptmarket/source', join(pkgDir, 'src', 'cli.ts'), 'test-connection', ...args],
        { cwd: pkgDir, env: { ...base, ...env }, timeout: 90_000 },
      );
      return { code: 0, out: stdout };
    } catch (err) {
      const e = err as { code?: number; stdout?: string; stderr?: string };
      return { code: e.code ?? -1, out: `${e.stdout ?? ''}${e.stderr ?? ''}` };
    }
  };

  it('passes every check against the stack, and says plainly what is wrong otherwise', async () => {
    const closedPort = await freePort();
    const [ok, wrongSecret, noSecret, queue, namespace, address, halfTls] = await Promise.all([
      cli({}),
      cli({ WORKFLOW_SECRET_KEY: 'wrong-secret-value' }),
      cli({ WORKFLOW_SECRET_KEY: '' }),
      cli({}, ['--task-queue', 'nobody-polls-this']),
      cli({ TEMPORAL_NAMESPACE: 'no-such-namespace' }),
      cli({ TEMPORAL_ADDRESS: `127.0.0.1:${closedPort}` }),
      cli({ TEMPORAL_TLS_CERT: '/nonexistent/cert.pem' }),
    ]);
    expect(ok.code, ok.out).toBe(0);
    expect(ok.out).toMatch(/^ok {3}address: /m);
    expect(ok.out).toMatch(/^ok {3}namespace: namespace "default" exists/m);
    expect(ok.out).toMatch(/^ok {3}task_queue: \d+ worker\(s\) poll task queue "generation-queue"/m);
    expect(ok.out).toMatch(/^ok {3}secret: the workers accept WORKFLOW_SECRET_KEY/m);
    expect(ok.out).toContain('All checks passed.');

    expect(wrongSecret.code).toBe(1);
    expect(wrongSecret.out).toMatch(/^FAIL secret: the workers refused WORKFLOW_SECRET_KEY/m);
    expect(noSecret.out).toMatch(/^FAIL secret: the workers require a secret: set WORKFLOW_SECRET_KEY/m);
    expect(queue.out).toMatch(/^FAIL task_queue: no worker polls task queue "nobody-polls-this"/m);
    expect(namespace.out).toMatch(/^FAIL namespace: namespace "no-such-namespace" does not exist/m);
    expect(address.code).toBe(1);
    expect(address.out).toMatch(new RegExp(`^FAIL address: cannot reach Temporal at 127\\.0\\.0\\.1:${closedPort} without TLS`, 'm'));
    expect(halfTls.out).toMatch(/^FAIL address: set TEMPORAL_TLS_CERT and TEMPORAL_TLS_KEY together/m);
    for (const r of [ok, wrongSecret, queue, namespace, address, halfTls]) {
      expect(r.out).not.toContain(stack.secret);
      expect(r.out).not.toContain('wrong-secret-value');
    }
    expect((await cli({}, ['bogus'])).code).toBe(2);
  }, 180_000);
});
