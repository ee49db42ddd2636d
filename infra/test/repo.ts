import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';

/** Helpers shared by the infra tests: the repository root and small readers. */
export const repo = resolve(import.meta.dirname, '../..');
export const read = (path: string): string => readFileSync(join(repo, path), 'utf8');
export const exists = (path: string): boolean => existsSync(join(repo, path));

/** Every file under `dir` (relative to the repo) whose name matches `pattern`, skipping node_modules and dist. */
export function walk(dir: string, pattern: RegExp): string[] {
  const out: string[] = [];
  const abs = join(repo, dir);
  if (!existsSync(abs)) return out;
  for (const name of readdirSync(abs)) {
    if (name === 'node_modules' || name === 'dist' || name.startsWith('.')) continue;
    const rel = join(dir, name);
    if (statSync(join(repo, rel)).isDirectory()) out.push(...walk(rel, pattern));
    else if (pattern.test(name)) out.push(rel);
  }
  return out;
}

/** The apps that ship as images, with their Dockerfiles and package names. */
export const APPS = [
  { dir: 'apps/gateway', pkg: '@gptmarket/gateway', dockerfile: 'infra/docker/gateway.Dockerfile', service: 'gateway' },
  {
    dir: 'apps/generation-worker',
    pkg: '@gptmarket/generation-worker',
    dockerfile: 'infra/docker/generation-worker.Dockerfile',
    service: 'generation-worker',
  },
  { dir: 'apps/media-worker', pkg: '@gptmarket/media-worker', dockerfile: 'infra/docker/media-worker.Dockerfile', service: 'media-worker' },
] as const;

/**
 * `pnpm` arguments that make an app's production folder, as the Dockerfiles run them (build.test.ts too): a
 * dedicated lockfile cut from the workspace's, so nothing is re-resolved and `--offline` works from the store
 * alone; workspace packages are copied in (injected) for this command only.
 */
export const deployArgs = (pkg: string): string[] => ['deploy', '--config.inject-workspace-packages=true', `--filter=${pkg}`, '--prod'];
