/** Routes of the dashboard (the API serves index.html for any of them). */
export type Route =
  | { name: 'runs' }
  | { name: 'new' }
  | { name: 'run'; id: string }
  | { name: 'compare'; ids: string[] }
  | { name: 'lessons' }
  | { name: 'lesson'; id: string }
  | { name: 'missing' };

const RUN_ID = /^[A-Za-z0-9_-]{1,100}$/;
/** More runs than this side by side do not fit a screen. */
export const MAX_COMPARED = 6;

export function parseRoute(pathname: string, search = ''): Route {
  const path = pathname.replace(/\/+$/, '') || '/';
  if (path === '/' || path === '/runs') return { name: 'runs' };
  if (path === '/new') return { name: 'new' };
  if (path === '/compare') {
    const raw = new URLSearchParams(search).get('ids') ?? '';
    const ids = [...new Set(raw.split(',').map((id) => id.trim()))].filter((id) => RUN_ID.test(id));
    return { name: 'compare', ids: ids.slice(0, MAX_COMPARED) };
  }
  const run = /^\/runs\/([A-Za-z0-9_-]{1,100})$/.exec(path);
  if (run) return { name: 'run', id: run[1]! };
  if (path === '/lessons') return { name: 'lessons' };
  const lesson = /^\/lessons\/([A-Za-z0-9_-]{1,100})$/.exec(path);
  if (lesson) return { name: 'lesson', id: lesson[1]! };
  return { name: 'missing' };
}

export const runPath = (id: string) => `/runs/${id}`;
export const lessonPath = (id: string) => `/lessons/${encodeURIComponent(id)}`;
export const comparePath = (ids: readonly string[]) => `/compare?ids=${ids.map(encodeURIComponent).join(',')}`;

/** Client-side navigation: pushes the path and tells the app. */
export function navigate(path: string): void {
  if (window.location.pathname + window.location.search === path) return;
  window.history.pushState(null, '', path);
  window.dispatchEvent(new PopStateEvent('popstate'));
  window.scrollTo(0, 0);
}
