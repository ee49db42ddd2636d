/**
 * The credential of this browser tab (sessionStorage: gone with the tab, never in a URL) and the SDK client made
 * from it. Requests go to the origin the dashboard was loaded from.
 */
import { GptMarketClient, isGptMarketError } from '@gptmarket/sdk';
import type { AuthKind } from './format.js';

export type Credential = { kind: 'key'; key: string } | { kind: 'basic'; username: string; password: string };

const STORAGE_KEY = 'gptmarket.dashboard.credential';

export function loadCredential(): Credential | null {
  try {
    const c = JSON.parse(sessionStorage.getItem(STORAGE_KEY) ?? 'null') as Credential | null;
    if (c?.kind === 'key' && typeof c.key === 'string') return { kind: 'key', key: c.key };
    if (c?.kind === 'basic' && typeof c.username === 'string' && typeof c.password === 'string')
      return { kind: 'basic', username: c.username, password: c.password };
  } catch {
    /* nothing usable stored */
  }
  return null;
}

export function saveCredential(credential: Credential | null): void {
  if (credential) sessionStorage.setItem(STORAGE_KEY, JSON.stringify(credential));
  else sessionStorage.removeItem(STORAGE_KEY);
}

export const authKindOf = (credential: Credential | null): AuthKind => credential?.kind ?? 'open';

/**
 * `fetch` without the browser's own credentials: the Authorization header is the client's, and a 401 with a Basic
 * challenge never opens the browser's password dialog.
 */
const fetchOwnCredentials: typeof fetch = (input, init) => fetch(input, { ...init, credentials: 'omit' });

export function makeClient(credential: Credential | null): GptMarketClient {
  return new GptMarketClient({
    baseUrl: location.origin,
    fetch: fetchOwnCredentials,
    ...(credential?.kind === 'key' ? { apiKey: credential.key } : {}),
    ...(credential?.kind === 'basic' ? { basicAuth: { username: credential.username, password: credential.password } } : {}),
  });
}

/** The gateway answers without credentials (open mode: no keys and no basic auth, outside production). */
export async function gatewayIsOpen(): Promise<boolean> {
  try {
    await makeClient(null).listGenerations({ limit: 1 });
    return true;
  } catch {
    return false;
  }
}

/** Checks a credential with one read; null when it is accepted, else why not, in words. */
export async function checkCredential(credential: Credential): Promise<string | null> {
  try {
    await makeClient(credential).listGenerations({ limit: 1 });
    return null;
  } catch (err) {
    if (isGptMarketError(err) && err.status === 401)
      return credential.kind === 'key' ? 'This API key is not accepted.' : 'This username and password are not accepted.';
    return errorText(err);
  }
}

/** What went wrong with a request, in words for the person at the screen (the gateway's messages are written for callers). */
export function errorText(err: unknown): string {
  if (!isGptMarketError(err)) return 'Something went wrong in the dashboard. Reload the page and try again.';
  if (err.code === 'network_error' || err.code === 'timeout')
    return 'The gateway could not be reached. Check the connection and try again.';
  if (err.status === 401) return 'Your sign-in is no longer accepted. Sign out and sign in again.';
  if (err.status >= 500 && err.code === 'internal')
    return `The gateway had a problem${err.requestId ? ` (request ${err.requestId})` : ''}. Try again later.`;
  const issues = err.issues.map((i) => `${i.path}: ${i.message}`);
  return [err.message, ...issues].join('. ');
}
