'use client';

/**
 * One page for every generation type: the form from the SDK's form registry (fields, defaults, per-model params,
 * the contracts' validation messages), then live progress over SSE and the resulting media. All calls go to this
 * app's own route (/api/gptmarket), which adds the API key on the server.
 */
import { useState, type FormEvent, type ReactNode } from 'react';
import { GptMarketClient, GptMarketError, getFormRegistry, type FieldDefinition } from '@gptmarket/sdk';
import { GptMarketProvider, useCreateGeneration, useGeneration, useGenerationForm } from '@gptmarket/sdk/react';

const forms = Object.values(getFormRegistry());

export default function Page() {
  // The browser talks to this app only; during prerendering there is no window and no call is made.
  const [client] = useState(
    () => new GptMarketClient({ baseUrl: `${typeof window === 'undefined' ? 'http://localhost' : window.location.origin}/api/gptmarket` }),
  );
  const [type, setType] = useState('ruby');
  const [generationId, setGenerationId] = useState<string | null>(null);
  return (
    <GptMarketProvider client={client}>
      <main>
        <h1>GPTMarket Generator</h1>
        <label>
          Generation type
          <select
            name="type"
            value={type}
            onChange={(e) => {
              setType(e.target.value);
              setGenerationId(null);
            }}
          >
            {forms.map((f) => (
              <option key={f.type} value={f.type}>
                {f.name}
              </option>
            ))}
          </select>
        </label>
        <GenerationForm key={type} type={type} onCreated={setGenerationId} />
        {generationId && <Progress id={generationId} />}
      </main>
    </GptMarketProvider>
  );
}

function GenerationForm({ type, onCreated }: { type: string; onCreated(id: string): void }) {
  const form = useGenerationForm(type);
  const { create, isPending, error } = useCreateGeneration();
  if (!form.form) return <p className="error">Unknown type {type}</p>;
  const expert = form.form.fields.filter((f) => f.hidden);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const input = form.validate();
    if (!input) return;
    try {
      onCreated((await create(type, input)).id);
    } catch {
      /* shown from `error` below */
    }
  };
  return (
    <form id="generation-form" onSubmit={submit} noValidate>
      <p>{form.form.description}</p>
      {form.fields.map((f) => (
        <Field key={f.name} field={f} value={form.values[f.name]} error={form.errors[f.name]} onChange={(v) => form.setValue(f.name, v)} />
      ))}
      {expert.length > 0 && (
        <details>
          <summary>Models and their parameters</summary>
          {expert.map((f) =>
            f.models ? (
              <fieldset key={f.name}>
                <legend>{f.label}</legend>
                {form.modelParamFields(f.name).map((p) => (
                  <Field
                    key={p.name}
                    field={p}
                    value={(form.values[f.name] as Record<string, unknown> | undefined)?.[p.name]}
                    error={form.errors[`${f.name}.${p.name}`]}
                    onChange={(v) => form.setModelParam(f.name, p.name, v)}
                  />
                ))}
              </fieldset>
            ) : (
              <Field
                key={f.name}
                field={f}
                value={form.values[f.name]}
                error={form.errors[f.name]}
                onChange={(v) => form.setValue(f.name, v)}
              />
            ),
          )}
        </details>
      )}
      {form.warnings.map((w) => (
        <p key={w} className="warning">
          {w}
        </p>
      ))}
      {error != null && <p className="error">{error instanceof GptMarketError ? error.message : 'The request failed.'}</p>}
      <button type="submit" disabled={isPending}>
        {isPending ? 'Starting…' : 'Generate'}
      </button>
    </form>
  );
}

function Field({ field, value, error, onChange }: { field: FieldDefinition; value: unknown; error?: string; onChange(v: unknown): void }) {
  const text = value === undefined || value === null ? '' : typeof value === 'string' ? value : JSON.stringify(value);
  let control: ReactNode;
  if (field.type === 'checkbox') {
    control = <input type="checkbox" name={field.name} checked={value === true} onChange={(e) => onChange(e.target.checked)} />;
  } else if (field.type === 'select' && !field.allowCustom) {
    control = (
      <select
        name={field.name}
        value={text}
        onChange={(e) => onChange(field.options?.find((o) => String(o.value) === e.target.value)?.value)}
      >
        {!field.required && field.default === undefined && <option value="">—</option>}
        {field.options?.map((o) => (
          <option key={String(o.value)} value={String(o.value)}>
            {o.label}
          </option>
        ))}
      </select>
    );
  } else if (field.type === 'number') {
    control = (
      <input
        type="number"
        name={field.name}
        value={text}
        min={field.validation?.min}
        max={field.validation?.max}
        onChange={(e) => onChange(e.target.value === '' ? undefined : Number(e.target.value))}
      />
    );
  } else if (field.type === 'textarea' || field.type === 'json') {
    control = (
      <textarea
        name={field.name}
        rows={field.type === 'json' ? 3 : 2}
        defaultValue={text}
        onBlur={(e) => {
          const raw = e.target.value;
          if (field.type !== 'json' || raw === '') return onChange(raw === '' ? undefined : raw);
          try {
            onChange(JSON.parse(raw));
          } catch {
            onChange(raw); // the contract check names the field
          }
        }}
      />
    );
  } else {
    const list = field.options ? `${field.name}-options` : undefined;
    control = (
      <>
        <input name={field.name} value={text} list={list} onChange={(e) => onChange(e.target.value === '' ? undefined : e.target.value)} />
        {list && (
          <datalist id={list}>
            {field.options?.map((o) => (
              <option key={String(o.value)} value={String(o.value)}>
                {o.label}
              </option>
            ))}
          </datalist>
        )}
      </>
    );
  }
  return (
    <label data-field={field.name}>
      {field.label}
      {field.required && ' *'}
      {field.description && <small>{field.description}</small>}
      {control}
      {error && <span className="error">{error}</span>}
    </label>
  );
}

const isUrl = (v: unknown): v is string => typeof v === 'string' && /^https?:\/\//.test(v);

function Progress({ id }: { id: string }) {
  const { generation, status, currentStep, steps, isFinal, error } = useGeneration(id);
  const output = (generation?.output ?? {}) as Record<string, unknown>;
  const urls = Object.entries(output).filter((e): e is [string, string] => isUrl(e[1]));
  const videos = urls.filter(([k]) => /video_url$/.test(k));
  const images = urls.filter(([k]) => /(image|poster|preview)_url$/.test(k));
  return (
    <section id="progress" data-status={status ?? ''}>
      <h2>
        {id}: {status ?? 'loading'}
        {currentStep && !isFinal && ` (${currentStep.step_name}, ${currentStep.progress_pct}%)`}
      </h2>
      <ol className="steps">
        {steps.map((s) => (
          <li key={s.step_id} data-step={s.step_id} data-status={s.status}>
            {s.step_name} ({s.progress_pct}%){s.message ? `: ${s.message}` : ''}
          </li>
        ))}
      </ol>
      {status === 'failed' && <p className="error">{generation?.error?.message ?? 'The generation failed.'}</p>}
      {error != null && <p className="error">{error instanceof Error ? error.message : 'The progress stream failed.'}</p>}
      {isFinal && (
        <div className="media">
          {videos.map(([k, url]) => (
            <figure key={k}>
              <video
                data-output={k}
                src={url}
                controls
                muted
                playsInline
                poster={k === 'final_video_url' && isUrl(output.final_video_poster_url) ? output.final_video_poster_url : undefined}
              />
              <figcaption>{k}</figcaption>
            </figure>
          ))}
          {images.map(([k, url]) => (
            <figure key={k}>
              <img data-output={k} src={url} alt={k} />
              <figcaption>{k}</figcaption>
            </figure>
          ))}
        </div>
      )}
    </section>
  );
}
