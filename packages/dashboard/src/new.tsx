/**
 * A new generation of any type, from the SDK's form registry (useGenerationForm): each field with its default, the
 * chosen model's params typed, and the contracts' messages next to the fields before anything is sent.
 */
import { getForm, getFormRegistry, type FieldDefinition } from '@gptmarket/sdk';
import { useCreateGeneration, useGenerationForm } from '@gptmarket/sdk/react';
import { useEffect, useState, type FormEvent, type ReactNode } from 'react';
import { BASE, navigate, useLocation } from './router.js';
import { errorText } from './session.js';
import { PageHeading } from './ui.js';

export function NewPage() {
  const { query } = useLocation();
  const registry = getFormRegistry();
  const type = getForm(query.get('type') ?? '') ? query.get('type')! : 'ruby';
  const form = useGenerationForm(type);
  const creator = useCreateGeneration();
  const [attempt, setAttempt] = useState(0);
  const [expertOpen, setExpertOpen] = useState(false);

  const all = form.form?.fields ?? [];
  const paramsFields = all.filter((f) => f.models && f.modelField);
  const modelFields = new Set(paramsFields.map((f) => f.modelField));
  const expert = all.filter((f) => f.hidden);
  const expertInvalid = Object.keys(form.errors).some((path) => expert.some((f) => path === f.name || path.startsWith(`${f.name}.`)));
  const errorCount = Object.keys(form.errors).length;

  // After a refused submit, the first field with a message takes the focus (the model section opens if it has one).
  useEffect(() => {
    if (attempt === 0) return;
    if (expertInvalid) setExpertOpen(true);
    requestAnimationFrame(() => document.querySelector<HTMLElement>('#new-form [aria-invalid="true"]')?.focus());
  }, [attempt]);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const input = form.validate();
    if (!input) {
      setAttempt((a) => a + 1);
      return;
    }
    try {
      const created = await creator.create(type, input);
      navigate(`${BASE}/generations/${created.id}`);
    } catch {
      /* shown from creator.error */
    }
  };

  return (
    <>
      <PageHeading>New generation</PageHeading>
      <form id="new-form" className="new" onSubmit={submit} noValidate>
        <div className="field">
          <label htmlFor="type">Type</label>
          <select
            id="type"
            name="type"
            value={type}
            onChange={(e) => navigate(`${BASE}/new?type=${encodeURIComponent(e.target.value)}`, { replace: true })}
            aria-describedby="type-help"
          >
            {Object.values(registry).map((f) => (
              <option key={f.type} value={f.type}>
                {f.name}
              </option>
            ))}
          </select>
          <p id="type-help" className="help">
            {form.form?.description}
          </p>
        </div>

        {errorCount > 0 && (
          <div className="form-error" role="alert">
            {errorCount === 1 ? 'One field needs a change' : `${errorCount} fields need a change`} before this can start.
          </div>
        )}

        {form.fields.map((f) => (
          <Field
            key={`${type}.${f.name}`}
            field={f}
            path={f.name}
            value={form.values[f.name]}
            error={form.errors[f.name]}
            onChange={form.setValue}
          />
        ))}

        {expert.length > 0 && (
          <details className="expert" open={expertOpen} onToggle={(e) => setExpertOpen(e.currentTarget.open)}>
            <summary>Models and their parameters</summary>
            {expert
              .filter((f) => modelFields.has(f.name))
              .map((f) => {
                const models = Object.keys(paramsFields.find((p) => p.modelField === f.name)?.models ?? {});
                const choice: FieldDefinition = { ...f, type: 'select', options: models.map((m) => ({ value: m, label: m })) };
                return (
                  <Field
                    key={`${type}.${f.name}`}
                    field={choice}
                    path={f.name}
                    value={form.values[f.name]}
                    error={form.errors[f.name]}
                    onChange={form.setValue}
                  />
                );
              })}
            {paramsFields.map((p) => {
              const chosen = String(form.values[p.modelField!] ?? '');
              const values = (form.values[p.name] ?? {}) as Record<string, unknown>;
              const params = form.modelParamFields(p.name);
              return (
                <fieldset key={`${type}.${p.name}.${chosen}`} className="params">
                  <legend>
                    {p.label}: {chosen}
                  </legend>
                  {params.length === 0 && <p className="help">This model takes no parameters.</p>}
                  {params.map((param) => (
                    <Field
                      key={param.name}
                      field={param}
                      path={`${p.name}.${param.name}`}
                      value={values[param.name]}
                      error={form.errors[`${p.name}.${param.name}`]}
                      onChange={(_path, v) => form.setModelParam(p.name, param.name, v)}
                    />
                  ))}
                </fieldset>
              );
            })}
          </details>
        )}

        {form.warnings.length > 0 && (
          <ul className="warnings" aria-label="Warnings">
            {form.warnings.map((w) => (
              <li key={w}>{w}</li>
            ))}
          </ul>
        )}
        {creator.error !== null && (
          <p className="form-error" role="alert">
            {errorText(creator.error)}
          </p>
        )}
        <button type="submit" disabled={creator.isPending}>
          {creator.isPending ? 'Starting…' : 'Start generation'}
        </button>
      </form>
    </>
  );
}

interface FieldProps {
  field: FieldDefinition;
  /** The value's path in the input (`video_duration`, `image_model_params.output_quality`): ids and messages. */
  path: string;
  value: unknown;
  error: string | undefined;
  onChange(path: string, value: unknown): void;
}

/** One input with its label, its description and the contracts' message, tied together with aria-describedby. */
function Field({ field, path, value, error, onChange }: FieldProps) {
  const id = `field-${path.replace(/\W/g, '-')}`;
  const help = field.description ? `${id}-help` : null;
  const message = error ? `${id}-error` : null;
  const a11y = {
    id,
    name: path,
    'aria-describedby': [help, message].filter(Boolean).join(' ') || undefined,
    'aria-invalid': error ? true : undefined,
    'aria-required': field.required || undefined,
  };
  const set = (v: unknown) => onChange(path, v);
  const text = value === null || value === undefined ? '' : String(value);

  let control: ReactNode;
  if (field.type === 'checkbox') {
    control = <input type="checkbox" {...a11y} checked={value === true} onChange={(e) => set(e.target.checked)} />;
  } else if (field.type === 'select' && field.allowCustom) {
    control = (
      <>
        <input type="text" {...a11y} list={`${id}-options`} value={text} onChange={(e) => set(e.target.value)} autoComplete="off" />
        <datalist id={`${id}-options`}>
          {field.options?.map((o) => (
            <option key={String(o.value)} value={String(o.value)}>
              {o.label}
            </option>
          ))}
        </datalist>
      </>
    );
  } else if (field.type === 'select') {
    const byText = new Map(field.options?.map((o) => [String(o.value), o.value]));
    control = (
      <select {...a11y} value={text} onChange={(e) => set(e.target.value === '' ? null : byText.get(e.target.value))}>
        {(field.nullable || field.default === undefined) && <option value="">{field.nullable ? 'Default' : 'Choose…'}</option>}
        {field.options?.map((o) => (
          <option key={String(o.value)} value={String(o.value)}>
            {o.label}
          </option>
        ))}
      </select>
    );
  } else if (field.type === 'number') {
    const v = field.validation;
    control = (
      <input
        type="number"
        {...a11y}
        inputMode={v?.integer ? 'numeric' : 'decimal'}
        step={v?.integer ? 1 : 'any'}
        min={v?.min}
        max={v?.max}
        value={text}
        onChange={(e) => set(e.target.value === '' ? '' : Number(e.target.value))}
      />
    );
  } else if (field.type === 'json') {
    control = <JsonInput a11y={a11y} value={value} onChange={set} />;
  } else if (field.type === 'textarea') {
    control = <textarea {...a11y} rows={3} maxLength={field.validation?.maxLength} value={text} onChange={(e) => set(e.target.value)} />;
  } else {
    control = <input type="text" {...a11y} maxLength={field.validation?.maxLength} value={text} onChange={(e) => set(e.target.value)} />;
  }

  return (
    <div className={`field field-${field.type}`} data-field={path}>
      <label htmlFor={id}>
        {field.label}
        {field.required && <span className="required"> (required)</span>}
      </label>
      {control}
      {help && (
        <p id={help} className="help">
          {field.description}
        </p>
      )}
      {message && (
        <p id={message} className="error">
          {error}
        </p>
      )}
    </div>
  );
}

/** A JSON value typed as text; the value changes when the text parses. */
function JsonInput({ a11y, value, onChange }: { a11y: Record<string, unknown>; value: unknown; onChange(v: unknown): void }) {
  const [text, setText] = useState(() => (value === undefined ? '' : JSON.stringify(value)));
  const [bad, setBad] = useState(false);
  return (
    <>
      <textarea
        {...a11y}
        rows={3}
        className="mono"
        value={text}
        onChange={(e) => {
          setText(e.target.value);
          try {
            onChange(e.target.value.trim() === '' ? '' : JSON.parse(e.target.value));
            setBad(false);
          } catch {
            setBad(true);
          }
        }}
      />
      {bad && <p className="error">This is not valid JSON yet.</p>}
    </>
  );
}
