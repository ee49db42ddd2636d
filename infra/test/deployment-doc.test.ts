import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { exists, read } from './repo.js';

/** docs/DEPLOYMENT.md must agree with what ships: services, variables, files, images, ports. */
const doc = read('docs/DEPLOYMENT.md');
const compose = parse(read('docker-compose.prod.yml'), { merge: true }) as {
  services: Record<string, { image?: string; environment?: Record<string, string> }>;
};
// The opt-in override's services count too (the guide starts them with `dc -f docker-compose.temporal-public.yml`).
const publicOverride = parse(read('docker-compose.temporal-public.yml')) as { services: Record<string, unknown> };
const services = new Set([...Object.keys(compose.services), ...Object.keys(publicOverride.services)]);
const example = new Set([...read('.env.example').matchAll(/^([A-Z][A-Z0-9_]*)=/gm)].map((m) => m[1]!));
const codeBlocks = [...doc.matchAll(/```bash\n([\s\S]*?)```/g)].map((m) => m[1]!);
const SUBCOMMANDS_WITH_SERVICES = new Set(['up', 'run', 'exec', 'logs', 'stop', 'start', 'ps', 'restart']);

describe('docs/DEPLOYMENT.md', () => {
  it('names only services that exist in the compose file', () => {
    const named: string[] = [];
    for (const block of codeBlocks) {
      for (const line of block.split('\n')) {
        const m = /^dc(?: -f \S+)? (\w[\w-]*)\s+(.*)$/.exec(line.trim());
        if (!m || !SUBCOMMANDS_WITH_SERVICES.has(m[1]!)) continue;
        // Service names are the bare words after the options (stop at the first argument that starts a command).
        for (const word of m[2]!.split('#')[0]!.split(/\s+/)) {
          if (!word || word.startsWith('-') || word.includes('=') || word.includes('<') || /^\d+$/.test(word)) continue;
          if (['node', 'sh', 'temporal', 'psql'].includes(word)) break;
          named.push(word);
          if (m[1] === 'exec' || m[1] === 'run') break;
        }
      }
    }
    expect(named.length).toBeGreaterThan(10);
    expect(named.filter((n) => !services.has(n))).toEqual([]);
  });

  it('mentions only variables that .env.example lists', () => {
    const mentioned = new Set([...doc.matchAll(/`([A-Z][A-Z0-9_]{3,})(?:=[^`]*)?`/g)].map((m) => m[1]!));
    const IGNORE = new Set(['COMPOSE_PROJECT_NAME', 'SIGTERM', 'NODE_IMAGE']); // Docker Compose's own variable; a signal; a Dockerfile build ARG
    expect([...mentioned].filter((v) => !example.has(v) && !IGNORE.has(v))).toEqual([]);
    expect(mentioned.size).toBeGreaterThan(30);
  });

  it('refers to files that exist', () => {
    const files = [...doc.matchAll(/`((?:infra|docs|apps|packages)\/[\w./-]+|docker-compose[\w.-]*\.yml|\.env\.example)`/g)].map(
      (m) => m[1]!,
    );
    expect(files.length).toBeGreaterThan(3);
    expect(files.filter((f) => !exists(f))).toEqual([]);
  });

  it('names the image tags and health ports the compose file uses', () => {
    for (const s of Object.values(compose.services)) if (s.image) expect(doc, s.image).toContain(s.image.split(':')[1]!);
    expect(doc).toContain(`:${compose.services['generation-worker']!.environment!.HEALTH_PORT}/health`);
    expect(doc).toContain(`:${compose.services['media-worker']!.environment!.HEALTH_PORT}/health`);
  });

  it("does not repeat the Python guide's false statements", () => {
    expect(doc).not.toMatch(/42713/); // the old guide's port; compose never used it
    expect(doc).not.toMatch(/WORKFLOW_SECRET_ENABLED[^\n]*\|\s*`false`/);
    expect(doc).not.toMatch(/not inputs\/outputs/i); // the claim that Temporal without the key hides inputs
    expect(doc).toMatch(/read every history/);
  });

  it('gives the rotation order: workers first with both secrets, then the gateway, then drop the previous one', () => {
    const rotation = doc.slice(doc.indexOf('## Secret rotation'), doc.indexOf('## Backup'));
    const workers = rotation.indexOf('WORKFLOW_SECRET_KEY_PREVIOUS=<old>');
    const gateway = rotation.indexOf('dc up -d --no-deps gateway');
    const drop = rotation.indexOf('Clear `WORKFLOW_SECRET_KEY_PREVIOUS`');
    expect(workers).toBeGreaterThan(0);
    expect(gateway).toBeGreaterThan(workers);
    expect(drop).toBeGreaterThan(gateway);
  });

  it('backs up and restores with pg_dump/pg_restore through docker compose exec', () => {
    expect(doc).toMatch(/dc exec -T app-db sh -c 'pg_dump /);
    expect(doc).toMatch(/dc exec -T app-db sh -c 'pg_restore /);
    expect(doc).toMatch(/dc exec -T temporal-db sh -c 'pg_dump -U "\$POSTGRES_USER" -d temporal_visibility/);
  });
});
