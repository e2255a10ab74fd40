import type { ApiProblem } from '../lib/api.js';

/** An API error as a note; a 401/403 hints at the key field. */
export function ProblemNote({ problem }: { problem: ApiProblem }) {
  const auth = problem.status === 401 || problem.status === 403;
  return (
    <div className="note note-error" role="alert">
      <strong>{problem.message}</strong>
      {auth && <span> Set a valid API key with the key button at the top right.</span>}
      {problem.issues.length > 0 && (
        <ul>
          {problem.issues.map((issue) => (
            <li key={`${issue.path}:${issue.message}`}>
              {issue.label ? <strong>{issue.label}:</strong> : <code>{issue.path}</code>} {issue.message}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}
