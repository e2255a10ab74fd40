/** Routes of the dashboard (the API serves index.html for any of them). */
export type Route = { name: 'runs' } | { name: 'new' } | { name: 'run'; id: string } | { name: 'missing' };

export function parseRoute(pathname: string): Route {
  const path = pathname.replace(/\/+$/, '') || '/';
  if (path === '/' || path === '/runs') return { name: 'runs' };
  if (path === '/new') return { name: 'new' };
  const run = /^\/runs\/([A-Za-z0-9_-]{1,100})$/.exec(path);
  if (run) return { name: 'run', id: run[1]! };
  return { name: 'missing' };
}

export const runPath = (id: string) => `/runs/${id}`;

/** Client-side navigation: pushes the path and tells the app. */
export function navigate(path: string): void {
  if (window.location.pathname === path) return;
  window.history.pushState(null, '', path);
  window.dispatchEvent(new PopStateEvent('popstate'));
  window.scrollTo(0, 0);
}
