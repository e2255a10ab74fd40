import type { CreateRunRequest } from '@autolab/contracts';
import { type FormEvent, useRef, useState } from 'react';
import { useApi } from '../hooks/api-context.js';
import { type ApiProblem, toProblem, uploadFiles } from '../lib/api.js';
import {
  checkForm,
  type FieldIssue,
  fromApiIssue,
  NUMBER_FIELDS,
  type NumberFieldKey,
  summaryFor,
} from '../lib/form-checks.js';
import { FORM_DEFAULTS as DEFAULTS, type FormMode, type FormValues, toRequest } from '../lib/form-request.js';
import { navigate, runPath } from '../lib/router.js';
import { Field } from './Field.js';
import { FileDrop, type PickedFile } from './FileDrop.js';
import { ProblemNote } from './ProblemNote.js';

/** The roles a run may give their own model (the form's text fields; empty: the run's model). */
const ROLE_FIELDS = [
  { key: 'modelCode', role: 'code', label: 'Code model', hint: 'Writes and fixes the programs' },
  { key: 'modelJudge', role: 'judge', label: 'Judge model', hint: 'Reviews each execution' },
  { key: 'modelWriteup', role: 'writeup', label: 'Writeup model', hint: 'Figures and the paper' },
  { key: 'modelReview', role: 'review', label: 'Review model', hint: 'Reviews the paper' },
  { key: 'modelIdeas', role: 'ideas', label: 'Ideas model', hint: 'Proposes the ideas' },
  { key: 'modelVision', role: 'vision', label: 'Vision model', hint: 'Critiques the figures; "none": off' },
] as const;

/** The run's inputs the form takes files for (each group becomes one upload). */
const INPUTS = [
  {
    kind: 'data',
    label: 'Data (optional)',
    hint: 'Your dataset: every experiment reads it, read-only, at /workspace/input/data/. One .tar.gz or .zip is unpacked.',
  },
  {
    kind: 'code',
    label: 'Starting code (optional)',
    hint: 'Run as it is as the first experiment (main.py, run.py, train.py or the only .py file); the search improves on it.',
  },
  {
    kind: 'papers',
    label: 'Papers (optional)',
    hint: 'PDFs and .bib files the research builds on: the ideas start from them and the paper cites them.',
  },
] as const;
/** An evolve run's two uploads (docs/evolve.md). */
const EVOLVE_INPUTS = [
  {
    kind: 'code',
    label: 'Program',
    hint: 'The program to improve: one file, or a folder (its program.py or main.py). Mark the regions the model may change with EVOLVE-BLOCK-START / EVOLVE-BLOCK-END, or it may change the whole file.',
  },
  {
    kind: 'evaluator',
    label: 'Evaluator',
    hint: 'A folder with evaluate.py, run in a sandbox against every candidate: it writes metrics.json (with a score) and correct.json.',
  },
] as const;
type InputKind = (typeof INPUTS)[number]['kind'] | (typeof EVOLVE_INPUTS)[number]['kind'];
const NO_FILES: Record<InputKind, PickedFile[]> = { data: [], code: [], papers: [], evaluator: [] };

const asFormProblem = (problem: ApiProblem, mode: FormMode) =>
  formProblem(
    problem,
    problem.issues.map((issue) => fromApiIssue(issue, mode)),
  );

/** A refused request in the form's words: each issue by the label of its field, a summary that counts them. */
function formProblem(problem: ApiProblem, issues: FieldIssue[]): ApiProblem {
  if (issues.length === 0) return problem;
  return { ...problem, message: summaryFor(issues), issues };
}

const newKey = () => {
  const bytes = crypto.getRandomValues(new Uint8Array(12));
  return `web-${Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('')}`;
};

export function SubmitForm() {
  const { client } = useApi();
  const [mode, setMode] = useState<FormMode>('research');
  const [values, setValues] = useState<FormValues>(DEFAULTS);
  const [files, setFiles] = useState<Record<InputKind, PickedFile[]>>(NO_FILES);
  const [uploading, setUploading] = useState<string | null>(null);
  const [problem, setProblem] = useState<ApiProblem | null>(null);
  const [busy, setBusy] = useState(false);
  // One idempotency key per form content: a double click or a retry after a timeout creates one run.
  const idempotencyKey = useRef(newKey());

  const set = <K extends keyof FormValues>(key: K, value: FormValues[K]) => {
    idempotencyKey.current = newKey();
    setValues((v) => ({ ...v, [key]: value }));
  };
  const errorFor = (path: string) => problem?.issues.find((i) => i.path === path)?.message;

  const evolve = mode === 'evolve';
  const inputKinds = evolve ? EVOLVE_INPUTS : INPUTS;
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    // What the form can check itself is checked before anything is sent, in the words the API's issues are shown in.
    const local = checkForm(values, mode, { program: files.code.length > 0, evaluator: files.evaluator.length > 0 });
    if (local.length > 0) {
      setProblem(formProblem({ status: 0, code: 'validation_failed', message: '', issues: [] }, local));
      return;
    }
    setBusy(true);
    setProblem(null);
    try {
      const request = toRequest(values, mode);
      // The files go up first (each group one upload), then the run names them.
      const inputs: NonNullable<CreateRunRequest['inputs']> = {};
      for (const { kind } of inputKinds) {
        if (files[kind].length === 0) continue;
        setUploading(kind);
        inputs[kind] = await uploadFiles(client, files[kind], `inputs.${kind}`);
      }
      setUploading(null);
      if (Object.keys(inputs).length > 0) request.inputs = inputs;
      const run = await client.createRun(request, { idempotencyKey: idempotencyKey.current });
      navigate(runPath(run.id));
    } catch (err) {
      setProblem(asFormProblem(toProblem(err), mode));
    } finally {
      setBusy(false);
      setUploading(null);
    }
  };

  const number = (key: NumberFieldKey, hint: string, step = '1') => (
    <Field label={NUMBER_FIELDS[key].label} hint={hint} error={errorFor(NUMBER_FIELDS[key].path)}>
      <input
        name={key}
        type="number"
        inputMode="decimal"
        step={step}
        value={values[key]}
        onChange={(e) => set(key, e.target.value)}
      />
    </Field>
  );

  return (
    <form className="card form" onSubmit={submit} noValidate aria-label="New run" data-mode={mode}>
      <fieldset className="mode-choice">
        <legend>Kind of run</legend>
        {(
          [
            ['research', 'Research', 'a goal becomes experiments and a paper'],
            ['evolve', 'Evolve', 'your program and evaluator become better programs'],
          ] as const
        ).map(([value, label, hint]) => (
          <label key={value} className="check-field">
            <input
              type="radio"
              name="mode"
              value={value}
              checked={mode === value}
              onChange={() => {
                idempotencyKey.current = newKey();
                setProblem(null);
                setMode(value);
              }}
            />
            <span>
              <strong>{label}</strong> <span className="muted small">{hint}</span>
            </span>
          </label>
        ))}
      </fieldset>
      <Field
        label={evolve ? 'Goal (optional)' : 'Research goal'}
        error={errorFor('goal')}
        wide
        hint={
          evolve
            ? 'What "better" means, if the score alone does not say it. At least 10 characters.'
            : 'At least 10 characters, in plain language.'
        }
      >
        <textarea
          name="goal"
          rows={evolve ? 2 : 4}
          placeholder={
            evolve
              ? "Improve the program's score as its evaluator measures it, keeping it correct."
              : 'e.g. Does label smoothing improve the calibration of a small MLP on synthetic data?'
          }
          value={values.goal}
          onChange={(e) => set('goal', e.target.value)}
        />
      </Field>
      <div className="form-grid">
        {evolve ? (
          <>
            {number('generations', 'At most, 1–500')}
            {number('population', 'Children per generation, 1–64')}
            {number('islands', 'Sub-populations, 1–16')}
          </>
        ) : (
          number('maxIterations', 'Experiments, 1–200')
        )}
        {number('budgetUsd', 'Empty: $5 (for models with a price)', '0.01')}
        {number('timeLimitMinutes', 'Wall-clock cap')}
        <Field label="Model" hint="Empty: the server's default" error={errorFor('model')}>
          <input
            name="model"
            type="text"
            placeholder="server default"
            value={values.model}
            onChange={(e) => set('model', e.target.value)}
          />
        </Field>
      </div>
      {inputKinds.map(({ kind, label, hint }) => (
        <FileDrop
          key={kind}
          name={kind}
          label={label}
          hint={hint}
          files={files[kind]}
          onChange={(picked) => {
            idempotencyKey.current = newKey();
            // An upload error was about the files these replace.
            setProblem((p) => (p?.issues.some((i) => i.path === `inputs.${kind}`) ? null : p));
            setFiles((f) => ({ ...f, [kind]: picked }));
          }}
          error={errorFor(`inputs.${kind}`)}
        />
      ))}
      <details className="advanced">
        <summary>Advanced options</summary>
        <fieldset>
          <legend>Sandbox</legend>
          <div className="form-grid">
            {number('cpus', '0.25–16', '0.25')}
            {number('memoryMb', '128–65536')}
            {number('execTimeoutSeconds', 'Per experiment, 5–3600')}
            <Field label="Image" hint="Empty: python (GET /v1/images lists them)" error={errorFor('sandbox.image')}>
              <input
                name="image"
                type="text"
                placeholder="python"
                value={values.image}
                onChange={(e) => set('image', e.target.value)}
              />
            </Field>
          </div>
        </fieldset>
        <fieldset>
          <legend>A model per role</legend>
          <div className="form-grid">
            {ROLE_FIELDS.map(({ key, role, label, hint }) => (
              <Field key={key} label={label} hint={hint} error={errorFor(`models.${role}`)}>
                <input
                  name={key}
                  type="text"
                  placeholder="the run's model"
                  value={values[key]}
                  onChange={(e) => set(key, e.target.value)}
                />
              </Field>
            ))}
          </div>
        </fieldset>
        <fieldset>
          <legend>{evolve ? 'Evaluation' : 'Tree search'}</legend>
          <div className="form-grid">
            {!evolve && number('numDrafts', 'First drafts, 1–10')}
            {!evolve && number('debugProb', '0–1', '0.05')}
            {!evolve && number('maxDebugDepth', '0–10')}
            {number('nodeConcurrency', evolve ? 'Candidates evaluated at once, 1–8' : '1–8')}
            {evolve && number('maxTokens', 'Optional cap, at least 1000')}
          </div>
        </fieldset>
        {!evolve && (
          <fieldset>
            <legend>Ideation, review and paper</legend>
            <div className="form-grid">
              {number('numIdeas', '1–10')}
              {number('reflections', '0–5')}
              {number('reviewers', '0–7; 0 skips the review')}
              {number('seeds', 'Re-runs of the best, 0–10')}
              {number('pageLimit', '1–50')}
              {number('maxTokens', 'Optional cap, at least 1000')}
              <label className="field check-field">
                <input type="checkbox" checked={values.revise} onChange={(e) => set('revise', e.target.checked)} />
                <span>Revise the paper after the meta-review</span>
              </label>
            </div>
          </fieldset>
        )}
      </details>
      {problem && <ProblemNote problem={problem} />}
      <div className="form-actions">
        <button type="submit" className="btn btn-primary" disabled={busy}>
          {uploading ? `Uploading ${uploading}…` : busy ? 'Submitting…' : 'Start run'}
        </button>
        <button
          type="button"
          className="btn btn-ghost"
          onClick={() => {
            setValues(DEFAULTS);
            setFiles(NO_FILES);
          }}
          disabled={busy}
        >
          Reset
        </button>
      </div>
    </form>
  );
}
