import { createContext, type ReactNode, useCallback, useContext, useEffect, useMemo, useState } from 'react';
import { type ApiClient, makeClient } from '../lib/api.js';
import { loadApiKey, saveApiKey, takeKeyFromUrl } from '../lib/auth.js';

interface ApiContextValue {
  apiKey: string;
  setApiKey(key: string): void;
  client: ApiClient;
}

const ApiContext = createContext<ApiContextValue | null>(null);

/** Holds the API key (localStorage, or `#key=` once) and a client that sends it. */
export function ApiProvider({ children }: { children: ReactNode }) {
  const [apiKey, setKey] = useState(loadApiKey);
  const setApiKey = useCallback((key: string) => {
    saveApiKey(key.trim());
    setKey(key.trim());
  }, []);
  // The fragment is read at start-up and again whenever it changes: the page does not reload for a new `#key=`.
  useEffect(() => {
    const onHashChange = () => {
      const key = takeKeyFromUrl();
      if (key) setKey(key);
    };
    window.addEventListener('hashchange', onHashChange);
    return () => window.removeEventListener('hashchange', onHashChange);
  }, []);
  const client = useMemo(() => makeClient(apiKey), [apiKey]);
  const value = useMemo(() => ({ apiKey, setApiKey, client }), [apiKey, setApiKey, client]);
  return <ApiContext.Provider value={value}>{children}</ApiContext.Provider>;
}

export function useApi(): ApiContextValue {
  const value = useContext(ApiContext);
  if (!value) throw new Error('useApi outside ApiProvider');
  return value;
}
