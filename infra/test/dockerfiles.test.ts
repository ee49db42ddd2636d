import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DASHBOARD_DIRS } from '../../apps/gateway/src/routes/dashboard.js';
import { FONT_FILES } from '../../apps/media-worker/src/ffmpeg/fonts.js';
import { APPS, deployArgs, exists, read, repo } from './repo.js';

/** Static checks of the Dockerfiles (no Docker engine here): stages, COPY sources, the runner's shape. */
interface Instruction {
  op: string;
  args: string;
  line: number;
}
interface Stage {
  name: string | undefined;
  from: string;
  instructions: Instruction[];
}

function parseDockerfile(text: string): { args: Map<string, string>; stages: Stage[] } {
  const logical: { text: string; line: number }[] = [];
  let buf = '';
  let start = 0;
  text.split('\n').forEach((raw, i) => {
    const line = raw.trimEnd();
    if (!buf && (line.trim() === '' || line.trim().startsWith('#'))) return;
    if (!buf) start = i + 1;
    if (line.endsWith('\\')) buf += line.slice(0, -1) + ' ';
    else {
      logical.push({ text: (buf + line).trim(), line: start });
      buf = '';
    }
  });
  const args = new Map<string, string>();
  const stages: Stage[] = [];
  for (const { text: l, line } of logical) {
    const [, op = '', rest = ''] = /^(\w+)\s*(.*)$/s.exec(l) ?? [];
    const upper = op.toUpperCase();
    if (upper === 'ARG' && stages.length === 0) {
      const [k, v] = rest.split('=');
      args.set(k!, v ?? '');
    } else if (upper === 'FROM') {
      const m = /^(\S+)(?:\s+AS\s+(\S+))?$/i.exec(rest.trim());
      if (!m) throw new Error(`line ${line}: cannot parse FROM ${rest}`);
      stages.push({ name: m[2], from: m[1]!.replace(/\$\{(\w+)\}/g, (_, k: string) => args.get(k) ?? `<unset ${k}>`), instructions: [] });
    } else {
      if (!stages.length) throw new Error(`line ${line}: ${op} before FROM`);
      stages.at(-1)!.instructions.push({ op: upper, args: rest, line });
    }
  }
  return { args, stages };
}

function copyParts(args: string): { from?: string; sources: string[]; dest: string } {
  const words = args.split(/\s+/).filter(Boolean);
  let from: string | undefined;
  const paths: string[] = [];
  for (const w of words) {
    if (w.startsWith('--from=')) from = w.slice('--from='.length);
    else if (!w.startsWith('--')) paths.push(w);
  }
  return { from, sources: paths.slice(0, -1), dest: paths.at(-1)! };
}

const dockerignore = read('.dockerignore')
  .split('\n')
  .map((l) => l.trim())
  .filter((l) => l && !l.startsWith('#'));
const ignored = (path: string) =>
  dockerignore.some((p) => !p.startsWith('!') && (p === path || (p.startsWith('**/') && path.split('/').includes(p.slice(3)))));

const pruneRoot = mkdtempSync(join(tmpdir(), 'infra-prune-'));
afterAll(() => rmSync(pruneRoot, { recursive: true, force: true }));
/** What `turbo prune <pkg> --docker` really produces (the pruner stage runs exactly this). */
function prune(pkg: string): string {
  const out = join(pruneRoot, pkg.replace(/\W/g, '_'));
  execFileSync('turbo', ['prune', pkg, '--docker', '--out-dir', out], { cwd: repo, stdio: 'pipe', timeout: 60_000 });
  return out;
}

const rootPkg = JSON.parse(read('package.json')) as { packageManager: string };
const catalogTurbo = /\n\s+turbo: ([\d.]+)/.exec(read('pnpm-workspace.yaml'))![1];

describe.each(APPS)('$dockerfile', (app) => {
  const text = read(app.dockerfile);
  const { args, stages } = parseDockerfile(text);
  const runner = stages.at(-1)!;
  const byName = new Map(stages.filter((s) => s.name).map((s) => [s.name!, s]));

  it('is based on node:22 bookworm-slim pinned to an exact version (never Alpine)', () => {
    expect(args.get('NODE_IMAGE')).toMatch(/^node:22\.\d+\.\d+-bookworm-slim(@sha256:[0-9a-f]{64})?$/);
    for (const s of stages) expect(s.from === args.get('NODE_IMAGE') || byName.has(s.from), `FROM ${s.from}`).toBe(true);
    expect(text).not.toMatch(/alpine/i);
  });

  it('has the prune → install → build → deploy stages, for this app', () => {
    expect([...byName.keys()]).toEqual(['base', 'pruner', 'builder', 'runner']);
    const runs = (s: Stage) =>
      s.instructions
        .filter((i) => i.op === 'RUN')
        .map((i) => i.args)
        .join('\n');
    expect(runs(byName.get('base')!)).toContain(`pnpm@${rootPkg.packageManager.split('@')[1]}`);
    expect(runs(byName.get('base')!)).toContain(`turbo@${catalogTurbo}`);
    expect(runs(byName.get('pruner')!)).toMatch(new RegExp(`turbo prune ${app.pkg}( @gptmarket/[\\w-]+)* --docker`));
    const builder = runs(byName.get('builder')!);
    expect(builder).toContain('pnpm install --frozen-lockfile');
    expect(builder).toContain(`turbo run build --filter=${app.pkg}`);
    expect(builder).toContain(`pnpm ${deployArgs(app.pkg).join(' ')} /prod/app`);
  });

  it('copies only paths that exist: stages defined earlier, repo files not excluded by .dockerignore', () => {
    const pruned = prune(app.pkg);
    stages.forEach((stage, index) => {
      for (const ins of stage.instructions.filter((i) => i.op === 'COPY' || i.op === 'ADD')) {
        const { from, sources } = copyParts(ins.args);
        if (from) {
          const target = stages.findIndex((s) => s.name === from);
          expect(target, `line ${ins.line}: COPY --from=${from} names no stage`).toBeGreaterThanOrEqual(0);
          expect(target, `line ${ins.line}: COPY --from=${from} must name an earlier stage`).toBeLessThan(index);
          for (const src of sources) {
            if (from === 'pruner') {
              // /repo/out/... is the turbo prune output: check it in the real one.
              const rel = src.replace(/^\/repo\/out\//, '');
              expect(existsSync(join(pruned, rel)), `line ${ins.line}: prune output lacks ${rel}`).toBe(true);
            } else {
              // Paths made inside the builder must be the outputs of its RUN lines.
              const made = stages[target]!.instructions.filter((i) => i.op === 'RUN').some((i) => i.args.includes(src.replace(/\/$/, '')));
              expect(made, `line ${ins.line}: nothing in stage ${from} writes ${src}`).toBe(true);
            }
          }
        } else {
          for (const src of sources) {
            const rel = src.replace(/^\.\/?/, '') || '.';
            expect(exists(rel), `line ${ins.line}: ${src} is not in the repository`).toBe(true);
            if (rel !== '.') expect(ignored(rel), `line ${ins.line}: ${src} is excluded by .dockerignore`).toBe(false);
          }
        }
      }
    });
    // The pruned workspace has what the builder installs from and builds.
    for (const f of ['json/pnpm-lock.yaml', 'json/pnpm-workspace.yaml', `json/${app.dir}/package.json`, `full/${app.dir}/src/main.ts`]) {
      expect(existsSync(join(pruned, f)), f).toBe(true);
    }
  }, 60_000);

  it('runs as a non-root user under tini, with a health check and the built entry point', () => {
    const ops = (op: string) => runner.instructions.filter((i) => i.op === op).map((i) => i.args);
    expect(ops('USER')).toEqual(['node']);
    expect(ops('RUN').join(' ')).toMatch(/apt-get install -y --no-install-recommends[^&]*\btini\b/);
    expect(ops('ENTRYPOINT')).toEqual(['["/usr/bin/tini", "--"]']);
    expect(ops('CMD')).toEqual(['["node", "dist/main.js"]']);
    expect(ops('HEALTHCHECK')[0]).toMatch(/\/health/);
    expect(ops('ENV').join(' ')).toMatch(/NODE_ENV=production/);
  });
});

describe('image specifics', () => {
  it('ships the built dashboard in the gateway image, where the gateway looks for it', () => {
    const text = read('infra/docker/gateway.Dockerfile');
    expect(text).toMatch(/RUN turbo prune @gptmarket\/gateway @gptmarket\/dashboard --docker/);
    expect(text).toMatch(/RUN cp -r packages\/dashboard\/dist \/prod\/app\/dashboard\n/);
    // The runner's /app is /prod/app: the gateway's first place to look is <its package>/dashboard.
    expect(DASHBOARD_DIRS[0]).toBe(join(repo, 'apps/gateway/dashboard'));
    const turbo = JSON.parse(read('turbo.json')) as { tasks: Record<string, { dependsOn?: string[] }> };
    expect(turbo.tasks['@gptmarket/gateway#build']?.dependsOn).toContain('@gptmarket/dashboard#build');
  });

  it('ships the prebuilt workflow bundles (without and with tracing) in the generation worker image and points the worker at them', () => {
    const text = read('infra/docker/generation-worker.Dockerfile');
    expect(text).toMatch(/RUN node infra\/scripts\/bundle-workflows\.mjs --out \/repo\/apps\/generation-worker\/dist\/workflow-bundle\.js/);
    expect(text).toMatch(/WORKFLOW_BUNDLE_PATH=\/app\/dist\/workflow-bundle\.js/);
    expect(text).toMatch(
      /COPY --from=builder --chown=node:node \/repo\/apps\/generation-worker\/dist\/workflow-bundle\.js \/repo\/apps\/generation-worker\/dist\/workflow-bundle\.traced\.js \.\/dist\/\n/,
    );
  });

  it('installs FFmpeg and a Debian package for every caption font the media worker names', () => {
    const text = read('infra/docker/media-worker.Dockerfile');
    // Debian 12 package that owns each directory under /usr/share/fonts/truetype (checked with dpkg -S).
    const PACKAGE_OF_DIR: Record<string, string> = {
      dejavu: 'fonts-dejavu-core',
      liberation: 'fonts-liberation',
      freefont: 'fonts-freefont-ttf',
      roboto: 'fonts-roboto-unhinted',
    };
    expect(text).toMatch(/--no-install-recommends[^&]*\bffmpeg\b/);
    for (const [font, file] of Object.entries(FONT_FILES)) {
      const pkg = PACKAGE_OF_DIR[file.split('/')[0]!];
      expect(pkg, `${font} (${file}) has no known Debian package`).toBeDefined();
      expect(text, `${font} needs ${pkg}`).toMatch(new RegExp(`\\b${pkg}\\b`));
    }
    expect(text).toMatch(/FONT_DIR=\/usr\/share\/fonts\/truetype/);
  });

  it('ships the drizzle migrations with the gateway (packages/db publishes drizzle/)', () => {
    const db = JSON.parse(read('packages/db/package.json')) as { files?: string[] };
    expect(db.files ?? ['drizzle']).toContain('drizzle');
    expect(exists('packages/db/drizzle/meta/_journal.json')).toBe(true);
  });
});
