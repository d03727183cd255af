// Hash routes (`#/`, `#/<notebook>`) and the `?backend=` query, parsed without globals.
import { isBackendName, type BackendPreference } from '../lib/runtime/protocol';

export type Route = { page: 'home' } | { page: 'notebook'; id: string } | { page: 'not-found'; path: string };

/** `#/logdet?x=1` → `/logdet`; empty or `#` → `/`. */
export function hashPath(hash: string): string {
  const path = hash.replace(/^#/, '').split('?')[0].replace(/\/+$/, '');
  return path === '' ? '/' : path.startsWith('/') ? path : `/${path}`;
}

export function parseRoute(hash: string, notebookIds: readonly string[]): Route {
  const path = hashPath(hash);
  if (path === '/') return { page: 'home' };
  const id = path.slice(1);
  return notebookIds.includes(id) ? { page: 'notebook', id } : { page: 'not-found', path };
}

export function routeHref(route: Route): string {
  return route.page === 'home' ? '#/' : route.page === 'notebook' ? `#/${route.id}` : `#${route.path}`;
}

/** `?backend=wasm` forces a backend; anything else is `auto`, with the bad value kept for a notice. */
export function backendFromSearch(search: string): { backend: BackendPreference; invalid?: string } {
  const value = new URLSearchParams(search).get('backend');
  if (value === null || value === '' || value === 'auto') return { backend: 'auto' };
  const v = value.toLowerCase();
  return isBackendName(v) ? { backend: v } : { backend: 'auto', invalid: value };
}

/** The query string with `backend` set (or removed for `auto`), other parameters kept. */
export function searchWithBackend(search: string, backend: BackendPreference): string {
  const params = new URLSearchParams(search);
  if (backend === 'auto') params.delete('backend');
  else params.set('backend', backend);
  const s = params.toString();
  return s ? `?${s}` : '';
}
