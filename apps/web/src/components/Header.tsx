import { ApiKeyField } from './ApiKeyField.js';
import { Link } from './Link.js';

export function Header() {
  return (
    <header className="topbar">
      <div className="topbar-inner">
        <Link to="/" className="brand">
          <span className="brand-mark" aria-hidden="true">
            A
          </span>
          Autolab
        </Link>
        <nav className="topnav">
          <Link to="/">Runs</Link>
          <Link to="/new">New run</Link>
          <Link to="/lessons">Lessons</Link>
          <a href="/docs" target="_blank" rel="noreferrer">
            API
          </a>
        </nav>
        <ApiKeyField />
      </div>
    </header>
  );
}
