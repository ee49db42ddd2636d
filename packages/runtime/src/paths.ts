import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Where local state lives (the embedded database, local media, the dev stack's Temporal database and workflow
 * secret). The dev script, the gateway and its `keys` command must agree on it whatever folder each runs in,
 * so every relative path here resolves against one place: the checkout's root (the folder holding
 * `pnpm-workspace.yaml` above this file), or the working directory where there is no checkout (an image).
 */
function findCheckoutRoot(from: string): string | null {
  for (let dir = from; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'pnpm-workspace.yaml'))) return dir;
    if (dirname(dir) === dir) return null;
  }
}

export const checkoutRoot: string | null = findCheckoutRoot(dirname(fileURLToPath(import.meta.url)));

/** An absolute path for a configured one: relative paths count from the checkout's root. */
export const localPath = (path: string): string => resolve(checkoutRoot ?? process.cwd(), path);

/** The data directory: GPTMARKET_DATA_DIR, default `.data` in the checkout's root. */
export const dataDir = (value: string | undefined = process.env.GPTMARKET_DATA_DIR): string => localPath(value?.trim() || '.data');
