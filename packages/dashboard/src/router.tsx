/** Path routes under /dashboard (the gateway answers every /dashboard/* path with the page), on the History API. */
import { useSyncExternalStore, type AnchorHTMLAttributes, type MouseEvent } from 'react';

export const BASE = '/dashboard';

export type Route = { name: 'list' } | { name: 'new' } | { name: 'sign-in' } | { name: 'generation'; id: string } | { name: 'not-found' };

export function routeOf(pathname: string): Route {
  const rest = pathname.startsWith(BASE) ? pathname.slice(BASE.length).replace(/\/+$/, '') : null;
  if (rest === null) return { name: 'not-found' };
  if (rest === '') return { name: 'list' };
  if (rest === '/new') return { name: 'new' };
  if (rest === '/sign-in') return { name: 'sign-in' };
  const generation = /^\/generations\/(gen_[A-Za-z0-9]{10,40})$/.exec(rest);
  return generation ? { name: 'generation', id: generation[1]! } : { name: 'not-found' };
}

const listeners = new Set<() => void>();
let navigated = false;
/** A navigation happened in the page (not the first load): the new page's heading takes the focus. */
export const navigatedInPage = (): boolean => navigated;
const notify = () => {
  for (const l of listeners) l();
};
window.addEventListener('popstate', () => {
  navigated = true;
  notify();
});

/** Goes to `to` (a path under /dashboard, with an optional query) without reloading. */
export function navigate(to: string, options: { replace?: boolean } = {}): void {
  navigated = true;
  if (options.replace) history.replaceState(null, '', to);
  else history.pushState(null, '', to);
  if (!options.replace) window.scrollTo(0, 0);
  notify();
}

const subscribe = (listener: () => void) => {
  listeners.add(listener);
  return () => listeners.delete(listener);
};
const snapshot = () => location.pathname + location.search;

/** The current path and query; re-renders on every navigation. */
export function useLocation(): { pathname: string; query: URLSearchParams } {
  const where = useSyncExternalStore(subscribe, snapshot);
  const url = new URL(where, location.origin);
  return { pathname: url.pathname, query: url.searchParams };
}

/** A link that navigates in the page (a new tab or window with a modifier key, as links do). */
export function Link({ to, onClick, ...rest }: AnchorHTMLAttributes<HTMLAnchorElement> & { to: string }) {
  const follow = (e: MouseEvent<HTMLAnchorElement>) => {
    onClick?.(e);
    if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
    e.preventDefault();
    navigate(to);
  };
  return <a href={to} onClick={follow} {...rest} />;
}
