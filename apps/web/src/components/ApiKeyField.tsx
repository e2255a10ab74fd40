import { type FormEvent, useState } from 'react';
import { useApi } from '../hooks/api-context.js';

/** The API key, kept in localStorage; shown masked, editable in place. */
export function ApiKeyField() {
  const { apiKey, setApiKey } = useApi();
  const [editing, setEditing] = useState(false);
  const [draft, setDraft] = useState('');

  const save = (event: FormEvent) => {
    event.preventDefault();
    setApiKey(draft);
    setEditing(false);
  };

  if (!editing) {
    return (
      <button
        type="button"
        className={`key-chip ${apiKey ? 'has-key' : ''}`}
        onClick={() => {
          setDraft(apiKey);
          setEditing(true);
        }}
        title={apiKey ? 'Change the API key' : 'Set an API key'}
      >
        <span className="key-dot" aria-hidden="true" />
        {apiKey ? `Key …${apiKey.slice(-4)}` : 'No API key'}
      </button>
    );
  }
  return (
    <form className="key-form" onSubmit={save}>
      <input
        type="password"
        aria-label="API key"
        placeholder="API key"
        value={draft}
        autoComplete="off"
        // biome-ignore lint/a11y/noAutofocus: the field was just opened by the user
        autoFocus
        onChange={(e) => setDraft(e.target.value)}
      />
      <button type="submit" className="btn btn-small btn-primary">
        Save
      </button>
      <button type="button" className="btn btn-small" onClick={() => setEditing(false)}>
        Cancel
      </button>
    </form>
  );
}
