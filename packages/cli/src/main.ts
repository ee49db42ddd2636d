import { resolve } from 'node:path';
import { GptMarketClient, type ApiKey, type Generation } from '@gptmarket/sdk';
import { CreateApiKeyBody, ListGenerationsQuery, UpdateApiKeyBody, formatIssues } from '@gptmarket/sdk/contracts';
import { assertNoOptionsLeft, parseArgs, takeSwitch, takeValue, UsageError, type Args } from './args.js';
import { downloadFiles, outputFiles } from './download.js';
import { EXIT, explain } from './errors.js';
import { buildInput, fieldsHelp, formOf } from './input.js';
import { clock, ProgressView, type Mode } from './progress.js';

/** The gateway `./scripts/dev.sh` starts. */
export const DEFAULT_URL = 'http://localhost:3000';

const CONNECTION_HELP = `connection (flags win over the environment):
  --url URL               GPTMARKET_URL, default ${DEFAULT_URL}
  --api-key KEY           GPTMARKET_API_KEY: an API key (Authorization: Bearer)
  --basic-auth USER:PASS  GPTMARKET_BASIC_AUTH: basic auth (BASIC_AUTH_USER/PASSWORD of the gateway)
  --json                  JSON for scripts instead of text`;

const USAGE = `usage: gptmarket <command> [options]

  generate <type> --field value … [--wait] [--out DIR]   start a generation (gptmarket generate <type> --help: its fields)
  watch ID [--out DIR]                                  follow a generation to its end, then download its files
  list [--status S] [--type T] [--limit N]              generations, newest first
  get ID                                                one generation
  cancel ID                                             cancel a pending or running generation
  retry ID [--wait] [--out DIR]                         start a failed or cancelled generation again
  keys create|list|budget|revoke …                      API keys (operators: basic auth, or an open gateway)

${CONNECTION_HELP}

exit codes: 0 done (completed), 1 failed or an error, 2 a wrong command line (nothing was sent), 3 cancelled,
130 stopped watching with Ctrl-C (the generation goes on: gptmarket watch ID)`;

const WAIT_HELP = `  --wait                  follow it: a progress bar on a terminal, a line per change otherwise, JSON lines with --json;
                          when it completes, download its files and print their paths
  --out DIR               where the files go (default ./<generation id>)`;

const HELP: Record<string, string> = {
  generate: `usage: gptmarket generate <type> --field value … [--wait] [--out DIR]

Starts a generation. Fields come from the type's contract: numbers, true/false, JSON objects for *_params, null for
fields that may be null; --text-overlay and --text_overlay are the same field. A wrong field or value is refused
before anything is sent (exit 2). gptmarket generate <type> --help lists a type's fields.
${WAIT_HELP}

${CONNECTION_HELP}`,
  watch: `usage: gptmarket watch ID [--out DIR]

Follows a generation until it ends; when it completed, downloads its files (--out DIR, default ./ID) and prints their
paths. Exit 0 completed, 1 failed, 3 cancelled. Ctrl-C stops watching, not the generation.

${CONNECTION_HELP}`,
  list: `usage: gptmarket list [--status pending|running|completed|failed|cancelled] [--type T] [--limit 1-100]

Generations, newest first: a table (tab-separated when not on a terminal), or the page as JSON with --json.

${CONNECTION_HELP}`,
  get: `usage: gptmarket get ID\n\nOne generation: its status, step, cost, error and output (the record as JSON with --json).\n\n${CONNECTION_HELP}`,
  cancel: `usage: gptmarket cancel ID\n\nCancels a pending or running generation; it becomes cancelled once its provider jobs and FFmpeg have stopped.\n\n${CONNECTION_HELP}`,
  retry: `usage: gptmarket retry ID [--wait] [--out DIR]

Starts a failed or cancelled generation again, as a new generation with the same request.
${WAIT_HELP}

${CONNECTION_HELP}`,
  keys: `usage:
  gptmarket keys create --name NAME [--rate-limit N] [--daily-budget USD] [--monthly-budget USD]
  gptmarket keys list
  gptmarket keys budget KEY_ID [--daily-budget USD|none] [--monthly-budget USD|none]
  gptmarket keys revoke KEY_ID

API keys, through the gateway's admin API: operators only (basic auth, or a gateway still open: no keys yet, not in
production). Budgets are USD per UTC day and per UTC calendar month. The plain key is printed once, at creation.

${CONNECTION_HELP}`,
};

interface Context {
  client: GptMarketClient;
  baseUrl: string;
  mode: Mode;
  /** The directory the command was typed in (pnpm runs scripts from the repository root and says where in INIT_CWD). */
  cwd: string;
}

const stdout = (text: string) => process.stdout.write(text);
const stderr = (text: string) => process.stderr.write(text);
const printJson = (value: unknown) => stdout(`${JSON.stringify(value)}\n`);

/** Runs one command line; answers the exit code. */
export async function main(argv: readonly string[]): Promise<number> {
  let baseUrl = process.env.GPTMARKET_URL || DEFAULT_URL;
  try {
    const args = parseArgs(argv);
    const command = args.positionals.shift();
    const help = takeSwitch(args, 'help');
    if (!command || command === 'help') {
      (command || help ? stdout : stderr)(`${USAGE}\n`);
      return command || help ? EXIT.ok : EXIT.usage;
    }
    if (!Object.hasOwn(HELP, command)) throw new UsageError(`unknown command "${command}"\n\n${USAGE}`);
    if (help) {
      stdout(`${command === 'generate' && args.positionals[0] ? fieldsHelp(formOf(args.positionals[0])) : HELP[command]}\n`);
      return EXIT.ok;
    }
    const json = takeSwitch(args, 'json');
    const client = connect(args, command === 'keys');
    baseUrl = client.baseUrl;
    const ctx: Context = {
      client,
      baseUrl,
      mode: json ? 'json' : process.stdout.isTTY ? 'tty' : 'plain',
      cwd: process.env.INIT_CWD || process.cwd(),
    };
    switch (command) {
      case 'generate':
        return await generate(ctx, args);
      case 'watch': {
        const id = oneId(args, 'watch');
        const out = takeValue(args, 'out');
        assertNoOptionsLeft(args, 'watch');
        return await follow(ctx, id, out);
      }
      case 'list':
        return await list(ctx, args);
      case 'get': {
        const id = oneId(args, 'get');
        assertNoOptionsLeft(args, 'get');
        const g = await client.getGeneration(id);
        if (ctx.mode === 'json') printJson(g);
        else stdout(describe(g));
        return EXIT.ok;
      }
      case 'cancel': {
        const id = oneId(args, 'cancel');
        assertNoOptionsLeft(args, 'cancel');
        const g = await client.cancelGeneration(id);
        if (ctx.mode === 'json') printJson(g);
        else stdout(`cancelling ${g.id}: it becomes cancelled once its provider jobs and FFmpeg have stopped (gptmarket watch ${g.id})\n`);
        return EXIT.ok;
      }
      case 'retry': {
        const id = oneId(args, 'retry');
        const wait = takeSwitch(args, 'wait');
        const out = takeValue(args, 'out');
        assertNoOptionsLeft(args, 'retry');
        return await started(ctx, await client.retryGeneration(id), wait, out, `, a retry of ${id}`);
      }
      default:
        return await keys(ctx, args);
    }
  } catch (err) {
    const { message, code } = explain(err, baseUrl);
    stderr(`gptmarket: ${message}\n`);
    return code;
  }
}

/** The client, from flags or the environment. Both an API key and basic auth at one level: `keys` takes basic auth. */
function connect(args: Args, preferBasic: boolean): GptMarketClient {
  const urlFlag = takeValue(args, 'url');
  const keyFlag = takeValue(args, 'api-key');
  const basicFlag = takeValue(args, 'basic-auth');
  const baseUrl = urlFlag ?? (process.env.GPTMARKET_URL || DEFAULT_URL);
  if (!/^https?:\/\/[^/]/i.test(baseUrl)) throw new UsageError(`the gateway URL must start with http:// or https:// (got "${baseUrl}")`);
  let apiKey = keyFlag ?? (basicFlag === undefined ? process.env.GPTMARKET_API_KEY || undefined : undefined);
  let basic = basicFlag ?? (keyFlag === undefined ? process.env.GPTMARKET_BASIC_AUTH || undefined : undefined);
  if (apiKey && basic) {
    if (preferBasic) apiKey = undefined;
    else basic = undefined;
  }
  let basicAuth: { username: string; password: string } | undefined;
  if (basic) {
    const sep = basic.indexOf(':');
    if (sep <= 0) throw new UsageError('basic auth must be given as user:password (--basic-auth or GPTMARKET_BASIC_AUTH)');
    basicAuth = { username: basic.slice(0, sep), password: basic.slice(sep + 1) };
  }
  // A Retry-After longer than a few seconds is reported rather than waited for.
  return new GptMarketClient({ baseUrl, apiKey, basicAuth, maxRetryDelayMs: 5_000 });
}

function oneId(args: Args, command: string): string {
  const [id, ...extra] = args.positionals;
  if (!id) throw new UsageError(`gptmarket ${command} needs an id (see gptmarket ${command} --help)`);
  if (extra.length > 0) throw new UsageError(`unexpected argument "${extra[0]}" for ${command}`);
  return id;
}

/** Contract issues as flag errors: `--limit: Too big: expected number to be <=100`. */
function flagIssues(error: Parameters<typeof formatIssues>[0], flags: Record<string, string>): UsageError {
  return new UsageError(
    formatIssues(error)
      .map((i) => {
        const [head, ...rest] = i.path.split('.');
        const flag = flags[head ?? ''];
        return flag
          ? `${flag}${rest.length ? `.${rest.join('.')}` : ''}: ${i.message}`
          : i.path === '(root)'
            ? i.message
            : `${i.path}: ${i.message}`;
      })
      .join('\n'),
  );
}

// --- generations ---------------------------------------------------------------------------------------

async function generate(ctx: Context, args: Args): Promise<number> {
  const wait = takeSwitch(args, 'wait');
  const out = takeValue(args, 'out');
  const [type, ...extra] = args.positionals;
  const form = formOf(type);
  if (extra.length > 0) throw new UsageError(`unexpected argument "${extra[0]}": give fields as --name value`);
  const { input, warnings } = buildInput(form, args.options);
  for (const w of warnings) stderr(`warning: ${w}\n`);
  return started(ctx, await ctx.client.createGeneration(form.type, input), wait, out, '');
}

/** Says a generation started (created or retried), and follows it with `wait`. */
async function started(ctx: Context, g: Generation, wait: boolean, out: string | undefined, what: string): Promise<number> {
  if (ctx.mode === 'json') {
    if (wait) printJson({ event: 'created', generation: g });
    else printJson(g);
  } else {
    stdout(`started ${g.id} (${g.type})${what}\n`);
    for (const w of g.warnings) stderr(`warning: ${w}\n`);
    if (!wait) stdout(`follow it with: gptmarket watch ${g.id}\n`);
  }
  return wait ? follow(ctx, g.id, out) : EXIT.ok;
}

/**
 * Follows a generation to its end with the SDK (the event stream, polling when it is unavailable), then downloads
 * a completed one's files. Ctrl-C stops watching and says how to resume; the generation goes on.
 */
async function follow(ctx: Context, id: string, out: string | undefined): Promise<number> {
  const stop = new AbortController();
  const onSigint = () => {
    if (stop.signal.aborted) process.exit(EXIT.interrupted);
    stop.abort(new Error('interrupted'));
  };
  process.on('SIGINT', onSigint);
  const view = new ProgressView({ write: stdout, columns: process.stdout.columns }, ctx.mode, id);
  try {
    let g: Generation;
    try {
      g = await ctx.client.waitFor<Generation>(id, { signal: stop.signal, onProgress: (p) => view.update(p) });
    } catch (err) {
      view.stop();
      if (!stop.signal.aborted) throw err;
      stderr(`stopped watching ${id}; it goes on. Resume with: gptmarket watch ${id}\n`);
      return EXIT.interrupted;
    }
    view.update({ status: g.status, current_step: g.current_step }); // the final step (`complete`, or the one that failed)
    view.finish(g);
    if (g.status === 'completed') {
      const dir = resolve(ctx.cwd, out ?? g.id);
      const files = await downloadFiles(outputFiles(g.output, ctx.baseUrl), dir, stop.signal);
      if (ctx.mode === 'json') {
        printJson({
          event: 'completed',
          generation: g,
          files: files.map(({ pointer, url, path, bytes }) => ({ pointer, url, path, bytes })),
        });
      } else {
        for (const f of files) stdout(`saved ${f.path} (${size(f.bytes)})\n`);
        if (files.length === 0) stdout(`no files in the output: ${JSON.stringify(g.output)}\n`);
      }
      return EXIT.ok;
    }
    if (ctx.mode === 'json') printJson({ event: g.status, generation: g });
    if (g.status === 'failed') {
      const step = g.error?.step_id ? ` in step ${g.current_step?.step_name ?? g.error.step_id}` : '';
      stderr(`gptmarket: ${g.id} failed${step}: ${g.error?.message ?? 'no reason given'}\nstart it again with: gptmarket retry ${g.id}\n`);
      return EXIT.failed;
    }
    stderr(`gptmarket: ${g.id} was cancelled\n`);
    return EXIT.cancelled;
  } catch (err) {
    if (stop.signal.aborted) {
      stderr(`stopped; ${id} itself goes on (gptmarket watch ${id})\n`);
      return EXIT.interrupted;
    }
    throw err;
  } finally {
    process.off('SIGINT', onSigint);
  }
}

function size(bytes: number): string {
  return bytes >= 1_048_576 ? `${(bytes / 1_048_576).toFixed(1)} MB` : bytes >= 1024 ? `${(bytes / 1024).toFixed(1)} kB` : `${bytes} B`;
}

function ago(iso: string | null, now = Date.now()): string {
  if (!iso) return '-';
  const s = Math.max(0, Math.round((now - Date.parse(iso)) / 1000));
  return s < 60
    ? `${s}s ago`
    : s < 3600
      ? `${Math.floor(s / 60)}m ago`
      : s < 86_400
        ? `${Math.floor(s / 3600)}h ago`
        : `${Math.floor(s / 86_400)}d ago`;
}

const usd = (n: number) => `$${n.toFixed(n !== 0 && n < 0.01 ? 4 : 2)}`;
const costText = (g: Generation) => (!g.cost ? '-' : g.cost.actual !== null ? usd(g.cost.actual) : `~${usd(g.cost.estimated)}`);
const stepText = (g: Generation) => (g.current_step ? `${g.current_step.step_name} (${g.current_step.progress_pct}%)` : '-');

/** Rows as a padded table on a terminal, tab-separated otherwise. */
function table(ctx: Context, rows: string[][]): string {
  if (ctx.mode !== 'tty') return rows.map((r) => `${r.join('\t')}\n`).join('');
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => `${r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  ')}\n`).join('');
}

async function list(ctx: Context, args: Args): Promise<number> {
  const raw = { status: takeValue(args, 'status'), type: takeValue(args, 'type'), limit: takeValue(args, 'limit') };
  assertNoOptionsLeft(args, 'list');
  if (args.positionals.length > 0) throw new UsageError(`unexpected argument "${args.positionals[0]}" for list`);
  const query = ListGenerationsQuery.safeParse(raw);
  if (!query.success) throw flagIssues(query.error, { status: '--status', type: '--type', limit: '--limit' });
  const page = await ctx.client.listGenerations(query.data);
  if (ctx.mode === 'json') printJson(page);
  else if (page.data.length === 0) stdout('no generations\n');
  else
    stdout(
      table(ctx, [
        ['ID', 'TYPE', 'STATUS', 'STEP', 'COST', 'CREATED'],
        ...page.data.map((g) => [g.id, g.type, g.status, stepText(g), costText(g), ago(g.created_at)]),
      ]),
    );
  return EXIT.ok;
}

/** One generation in words. */
function describe(g: Generation): string {
  const lines: [string, string][] = [
    ['id', g.id],
    ['type', g.type],
    ['status', g.status],
    ['step', stepText(g)],
    ['created', `${g.created_at} (${ago(g.created_at)})`],
  ];
  if (g.completed_at) lines.push(['ended', `${g.completed_at} (after ${clock(Date.parse(g.completed_at) - Date.parse(g.created_at))})`]);
  if (g.cost) lines.push(['cost', `${costText(g)}${g.cost.actual !== null ? ` (estimated ${usd(g.cost.estimated)})` : ' (estimate)'}`]);
  if (g.retry_of) lines.push(['retry of', g.retry_of]);
  if (g.error) lines.push(['error', `${g.error.message} (${g.error.code}${g.error.step_id ? `, step ${g.error.step_id}` : ''})`]);
  for (const w of g.warnings) lines.push(['warning', w]);
  for (const f of outputFiles(g.output, '')) lines.push([f.pointer.slice(1), f.url]);
  const width = Math.max(...lines.map(([k]) => k.length));
  return lines.map(([k, v]) => `${k.padEnd(width)}  ${v}\n`).join('');
}

// --- API keys --------------------------------------------------------------------------------------------

const KEY_FLAGS = {
  name: '--name',
  rate_limit: '--rate-limit',
  daily_budget_usd: '--daily-budget',
  monthly_budget_usd: '--monthly-budget',
};

/** A number flag as the contract takes it (`none` is null for budgets); text that is no number goes on as text, for the contract to refuse. */
function numberFlag(args: Args, name: string, noneAllowed: boolean): unknown {
  const v = takeValue(args, name);
  if (v === undefined) return undefined;
  if (noneAllowed && v === 'none') return null;
  return /^\d+(\.\d+)?$/.test(v) ? Number(v) : v;
}

function budgetText(k: ApiKey): string {
  if (k.budgets.length === 0) return 'no budget';
  return k.budgets.map((b) => `${b.window === 'day' ? 'daily' : 'monthly'} ${usd(b.limit_usd)} (spent ${usd(b.spent_usd)})`).join(', ');
}

async function keys(ctx: Context, args: Args): Promise<number> {
  const [sub, ...rest] = args.positionals;
  args.positionals = rest;
  const { client } = ctx;
  let key: ApiKey;
  switch (sub) {
    case 'create': {
      const body = CreateApiKeyBody.safeParse({
        name: takeValue(args, 'name'),
        rate_limit: numberFlag(args, 'rate-limit', false),
        daily_budget_usd: numberFlag(args, 'daily-budget', true),
        monthly_budget_usd: numberFlag(args, 'monthly-budget', true),
      });
      assertNoOptionsLeft(args, 'keys');
      if (rest.length > 0) throw new UsageError(`unexpected argument "${rest[0]}" for keys create`);
      if (!body.success) throw flagIssues(body.error, KEY_FLAGS);
      const created = await client.createKey(body.data);
      if (ctx.mode === 'json') printJson(created);
      else
        stdout(
          `created ${created.id} (${created.name}), ${budgetText(created)}\nkey: ${created.key}\nStore it now: it is shown only once.\n`,
        );
      return EXIT.ok;
    }
    case 'list': {
      assertNoOptionsLeft(args, 'keys');
      const all = await client.listKeys();
      if (ctx.mode === 'json') printJson({ data: all });
      else if (all.length === 0) stdout('no API keys\n');
      else
        stdout(
          table(ctx, [
            ['ID', 'PREFIX', 'NAME', 'RATE LIMIT', 'STATUS', 'LAST USED', 'BUDGETS'],
            ...all.map((k) => [
              k.id,
              `${k.prefix}…`,
              k.name,
              k.rate_limit === null ? 'default' : String(k.rate_limit),
              k.revoked_at ? `revoked ${ago(k.revoked_at)}` : 'active',
              ago(k.last_used_at),
              budgetText(k),
            ]),
          ]),
        );
      return EXIT.ok;
    }
    case 'budget': {
      const id = oneId(args, 'keys budget');
      const body = UpdateApiKeyBody.safeParse({
        daily_budget_usd: numberFlag(args, 'daily-budget', true),
        monthly_budget_usd: numberFlag(args, 'monthly-budget', true),
      });
      assertNoOptionsLeft(args, 'keys');
      if (!body.success) throw flagIssues(body.error, KEY_FLAGS);
      key = await client.updateKeyBudgets(id, body.data);
      break;
    }
    case 'revoke': {
      const id = oneId(args, 'keys revoke');
      assertNoOptionsLeft(args, 'keys');
      key = await client.revokeKey(id);
      break;
    }
    default:
      throw new UsageError(sub ? `unknown keys command "${sub}"\n\n${HELP.keys}` : HELP.keys!);
  }
  if (ctx.mode === 'json') printJson(key);
  else stdout(`${key.id} (${key.name}): ${key.revoked_at ? `revoked ${key.revoked_at}` : budgetText(key)}\n`);
  return EXIT.ok;
}
