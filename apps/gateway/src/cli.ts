#!/usr/bin/env node
/**
 * The gateway command: manage API keys against the gateway's database.
 *   keys create --name NAME [--rate-limit N] [--daily-budget USD] [--monthly-budget USD]   prints the plain key once
 *   keys budget KEY_ID [--daily-budget USD|none] [--monthly-budget USD|none]
 *   keys list                                   budgets with what was spent in the current UTC day / month
 *   keys revoke KEY_ID
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { openDatabase } from '@gptmarket/db';
import { databaseLabel, databaseOptions, loadGatewayEnv, pgliteDir } from './env.js';
import { ApiKeyService, type BudgetState } from './services/api-keys.js';

const USAGE = `usage:
  keys create --name NAME [--rate-limit REQUESTS_PER_WINDOW] [--daily-budget USD] [--monthly-budget USD]
  keys budget KEY_ID [--daily-budget USD|none] [--monthly-budget USD|none]
  keys list
  keys revoke KEY_ID
budgets are spending limits in USD per UTC day and per UTC calendar month`;

function flag(args: string[], name: string): string | undefined {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
}

/** A budget flag: undefined when absent, null for "none", else USD (NaN is refused by the key service). */
function budgetFlag(args: string[], name: string): number | null | undefined {
  const v = flag(args, name);
  if (v === undefined) return undefined;
  return v === 'none' ? null : /^\d+(\.\d+)?$/.test(v) ? Number(v) : Number.NaN;
}

const usd = (micros: number) => `$${(micros / 1_000_000).toFixed(2)}`;

/** `daily $5.00 (spent $1.20, resets 2026-12-03T00:00:00.000Z)`, one per budget; `no budget` without one. */
function budgetText(states: BudgetState[]): string {
  if (states.length === 0) return 'no budget';
  return states
    .map(
      (b) =>
        `${b.window === 'day' ? 'daily' : 'monthly'} ${usd(b.limitMicros)} (spent ${usd(b.spentMicros)}, resets ${b.resetsAt.toISOString()})`,
    )
    .join(', ');
}

/** PGlite is single-process: refuse to open it while a gateway has it open. */
function assertPgliteFree(dir: string): void {
  const pidFile = join(dir, 'gateway.pid');
  if (!existsSync(pidFile)) return;
  const pid = Number(readFileSync(pidFile, 'utf8'));
  try {
    process.kill(pid, 0);
  } catch {
    return; // stale
  }
  throw new Error(
    `the gateway (pid ${pid}) has the embedded database in ${dir} open: stop it first (Ctrl-C stops ./scripts/dev.sh), then run this command again`,
  );
}

export async function runCli(argv: string[], out: (line: string) => void = console.log): Promise<number> {
  const [group, command, ...rest] = argv;
  if (group !== 'keys' || !command) {
    out(USAGE);
    return 64;
  }
  const env = loadGatewayEnv();
  if (!env.DATABASE_URL) assertPgliteFree(pgliteDir(env));
  const database = await openDatabase(databaseOptions(env));
  out(`database: ${databaseLabel(env)}`);
  try {
    const keys = new ApiKeyService(database.db);
    switch (command) {
      case 'create': {
        const name = flag(rest, '--name');
        if (!name) {
          out(USAGE);
          return 64;
        }
        const limit = flag(rest, '--rate-limit');
        const { key, row } = await keys.create(name, limit === undefined ? null : Number(limit), {
          dailyUsd: budgetFlag(rest, '--daily-budget'),
          monthlyUsd: budgetFlag(rest, '--monthly-budget'),
        });
        out(
          `created ${row.id} (${row.name})${row.rateLimit ? `, rate limit ${row.rateLimit} per window` : ''}, ${budgetText(await keys.budgets(row))}`,
        );
        out(`key: ${key}`);
        out('Store it now: it is shown only once.');
        return 0;
      }
      case 'list': {
        const rows = await keys.list();
        if (rows.length === 0) out('no API keys');
        for (const r of rows) {
          out(
            `${r.id}\t${r.prefix}…\t${r.name}\t${r.rateLimit ?? 'default'}\t${r.revokedAt ? `revoked ${r.revokedAt.toISOString()}` : 'active'}\tcreated ${r.createdAt.toISOString()}${r.lastUsedAt ? `\tlast used ${r.lastUsedAt.toISOString()}` : ''}\t${budgetText(await keys.budgets(r))}`,
          );
        }
        return 0;
      }
      case 'budget': {
        const id = rest[0];
        if (!id || id.startsWith('--')) {
          out(USAGE);
          return 64;
        }
        const row = await keys.setBudgets(id, {
          dailyUsd: budgetFlag(rest, '--daily-budget'),
          monthlyUsd: budgetFlag(rest, '--monthly-budget'),
        });
        if (!row) {
          out(`no key ${id}`);
          return 1;
        }
        out(`${row.id} (${row.name}): ${budgetText(await keys.budgets(row))}`);
        return 0;
      }
      case 'revoke': {
        const id = rest[0];
        if (!id) {
          out(USAGE);
          return 64;
        }
        const ok = await keys.revoke(id);
        out(ok ? `revoked ${id}` : `no active key ${id}`);
        return ok ? 0 : 1;
      }
      default:
        out(USAGE);
        return 64;
    }
  } finally {
    await database.close();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  runCli(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (err) => {
      console.error((err as Error).message);
      process.exit(1);
    },
  );
}
