#!/usr/bin/env node
/**
 * The gateway command: manage API keys against the gateway's database.
 *   keys create --name NAME [--rate-limit N]   prints the plain key once
 *   keys list
 *   keys revoke KEY_ID
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { openDatabase } from '@gptmarket/db';
import { databaseLabel, databaseOptions, loadGatewayEnv, pgliteDir } from './env.js';
import { ApiKeyService } from './services/api-keys.js';

const USAGE = `usage:
  keys create --name NAME [--rate-limit REQUESTS_PER_WINDOW]
  keys list
  keys revoke KEY_ID`;

function flag(args: string[], name: string): string | undefined {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
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
        const { key, row } = await keys.create(name, limit === undefined ? null : Number(limit));
        out(`created ${row.id} (${row.name})${row.rateLimit ? `, rate limit ${row.rateLimit} per window` : ''}`);
        out(`key: ${key}`);
        out('Store it now: it is shown only once.');
        return 0;
      }
      case 'list': {
        const rows = await keys.list();
        if (rows.length === 0) out('no API keys');
        for (const r of rows) {
          out(
            `${r.id}\t${r.prefix}…\t${r.name}\t${r.rateLimit ?? 'default'}\t${r.revokedAt ? `revoked ${r.revokedAt.toISOString()}` : 'active'}\tcreated ${r.createdAt.toISOString()}${r.lastUsedAt ? `\tlast used ${r.lastUsedAt.toISOString()}` : ''}`,
          );
        }
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
