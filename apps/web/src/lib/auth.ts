/** Where the dashboard keeps the API key between visits. */
export const API_KEY_STORAGE = 'autolab.apiKey';

/**
 * Reads `#key=...` from a URL fragment: returns the key and the fragment without it (so the caller can remove the key
 * from the address bar and history).
 */
export function keyFromFragment(hash: string): { key: string | null; rest: string } {
  const params = new URLSearchParams(hash.replace(/^#/, ''));
  const key = params.get('key');
  params.delete('key');
  const rest = params.toString();
  return { key: key?.trim() || null, rest: rest ? `#${rest}` : '' };
}

/**
 * A key in the address bar's fragment, stored and removed from the URL (and so from history) at once; null when
 * there is none. Called at start-up and on every `hashchange` (a `#key=` link opened in a tab already on the page).
 */
export function takeKeyFromUrl(): string | null {
  const { key, rest } = keyFromFragment(window.location.hash);
  if (!key) return null;
  saveApiKey(key);
  window.history.replaceState(window.history.state, '', window.location.pathname + window.location.search + rest);
  return key;
}

/** The key at start-up: from the URL fragment (see `takeKeyFromUrl`), else from storage. */
export function loadApiKey(): string {
  if (typeof window === 'undefined') return '';
  const key = takeKeyFromUrl();
  if (key) return key;
  try {
    return window.localStorage.getItem(API_KEY_STORAGE) ?? '';
  } catch {
    return '';
  }
}

export function saveApiKey(key: string): void {
  try {
    if (key) window.localStorage.setItem(API_KEY_STORAGE, key);
    else window.localStorage.removeItem(API_KEY_STORAGE);
  } catch {
    // Storage can be disabled; the key then lives for this page only.
  }
}

export function authHeaders(apiKey: string): Record<string, string> {
  return apiKey ? { authorization: `Bearer ${apiKey}` } : {};
}
