import { SubmitForm } from './SubmitForm.js';

export function NewRunPage() {
  return (
    <section className="narrow">
      <div className="page-head">
        <div>
          <h1>New run</h1>
          <p className="muted">
            Describe a research question. The agent plans it, writes and runs experiments in a sandbox, and writes a
            paper from what they measured.
          </p>
        </div>
      </div>
      <SubmitForm />
    </section>
  );
}
