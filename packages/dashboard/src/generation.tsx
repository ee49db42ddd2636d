/** One generation: its steps as they happen, inputs, errors in words, the media, and cancel / retry / copy as curl. */
import { fieldLabel, isFinalStatus, type Generation } from '@gptmarket/sdk';
import { useGeneration, useGptMarketClient } from '@gptmarket/sdk/react';
import { useRef, useState } from 'react';
import { costText, curlFor, failureWords, mediaOf, type AuthKind, type MediaItem } from './format.js';
import { BASE, Link, navigate } from './router.js';
import { errorText } from './session.js';
import { PageHeading, StatusBadge, typeName } from './ui.js';

export function GenerationPage({ id, auth }: { id: string; auth: AuthKind }) {
  const live = useGeneration(id);
  const g = live.generation;
  // The step the record was at when this page first read it: the steps before it ran unseen.
  const joinedAt = useRef<string | null | undefined>(undefined);
  if (g && joinedAt.current === undefined) joinedAt.current = g.current_step?.step_name ?? null;

  if (!g) {
    return (
      <>
        <PageHeading>Generation</PageHeading>
        {live.error ? (
          <p className="form-error" role="alert">
            {errorText(live.error)} <Link to={BASE}>Back to the generations</Link>.
          </p>
        ) : (
          <p role="status">Loading {id}…</p>
        )}
      </>
    );
  }
  const status = live.status ?? g.status;
  const steps = live.steps;
  const pct = status === 'completed' ? 100 : (live.currentStep?.progress_pct ?? 0);
  const stepName = (stepId: string | null) => steps.find((s) => s.step_id === stepId)?.step_name ?? stepId;

  return (
    <>
      <PageHeading>{typeName(g.type)} generation</PageHeading>
      <dl className="facts">
        <dt>ID</dt>
        <dd className="mono">{g.id}</dd>
        <dt>Status</dt>
        <dd>
          <StatusBadge status={status} />
        </dd>
        <dt>Started</dt>
        <dd>
          <time dateTime={g.created_at}>{new Date(g.created_at).toLocaleString()}</time>
        </dd>
        <dt>Cost</dt>
        <dd>{costText(g.cost)}</dd>
        {g.retry_of && (
          <>
            <dt>Retry of</dt>
            <dd>
              <Link to={`${BASE}/generations/${g.retry_of}`} className="mono">
                {g.retry_of}
              </Link>
            </dd>
          </>
        )}
      </dl>

      <Actions generation={g} status={status} auth={auth} />

      <section id="progress" data-status={status} aria-labelledby="steps-title">
        <h2 id="steps-title">Steps</h2>
        <progress max={100} value={pct} aria-label={`Progress: ${pct}%`} />
        {joinedAt.current && steps[0]?.step_name === joinedAt.current && (
          <p className="help">This page started following it at “{joinedAt.current}”: earlier steps are not listed.</p>
        )}
        {steps.length === 0 ? (
          <p>{isFinalStatus(status) ? 'No step was reported.' : 'Waiting for the first step…'}</p>
        ) : (
          <ol className="steps" aria-live="polite">
            {steps.map((s) => (
              <li key={s.step_id} data-step={s.step_id} data-status={s.status} className={`step step-${s.status}`}>
                <span className="step-name">{s.step_name}</span> <span className="step-status">{s.status}</span>
                {s.message && s.message !== `${s.step_name}...` && <span className="step-message">{s.message}</span>}
              </li>
            ))}
          </ol>
        )}
      </section>

      {g.error && (
        <section className="problem" role="alert" aria-labelledby="error-title">
          <h2 id="error-title">What went wrong</h2>
          <p>
            {failureWords(g.error.code)}
            {g.error.step_id && ` It stopped at the step “${stepName(g.error.step_id)}”.`}
          </p>
          <p>{g.error.message}</p>
        </section>
      )}
      {g.warnings.length > 0 && (
        <section aria-labelledby="warnings-title">
          <h2 id="warnings-title">Warnings</h2>
          <ul>
            {g.warnings.map((w) => (
              <li key={w}>{w}</li>
            ))}
          </ul>
        </section>
      )}

      {g.output && <Output output={g.output} />}

      <section aria-labelledby="inputs-title">
        <h2 id="inputs-title">Inputs</h2>
        <dl className="facts inputs">
          {Object.entries(g.input).map(([name, value]) => (
            <div key={name} className="fact">
              <dt>{fieldLabel(name)}</dt>
              <dd className={typeof value === 'object' && value !== null ? 'mono' : undefined}>{show(value)}</dd>
            </div>
          ))}
        </dl>
      </section>
    </>
  );
}

const show = (value: unknown): string =>
  value === null || value === undefined || value === '' ? '(none)' : typeof value === 'string' ? value : JSON.stringify(value);

function Actions({ generation: g, status, auth }: { generation: Generation; status: Generation['status']; auth: AuthKind }) {
  const client = useGptMarketClient();
  const [busy, setBusy] = useState<'cancel' | 'retry' | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  const [curl, setCurl] = useState<{ command: string; copied: boolean } | null>(null);

  const act = async (what: 'cancel' | 'retry') => {
    setBusy(what);
    setProblem(null);
    try {
      if (what === 'cancel') await client.cancelGeneration(g.id);
      else navigate(`${BASE}/generations/${(await client.retryGeneration(g.id)).id}`);
    } catch (err) {
      setProblem(errorText(err));
    } finally {
      setBusy(null);
    }
  };
  const copy = async () => {
    const command = curlFor(g, location.origin, auth);
    let copied = false;
    try {
      await navigator.clipboard.writeText(command);
      copied = true;
    } catch {
      /* no clipboard permission: the command is shown to copy by hand */
    }
    setCurl({ command, copied });
  };

  return (
    <section className="actions" aria-label="Actions">
      <div className="buttons">
        {!isFinalStatus(status) && (
          <button type="button" className="danger" onClick={() => act('cancel')} disabled={busy !== null}>
            {busy === 'cancel' ? 'Cancelling…' : 'Cancel'}
          </button>
        )}
        {(status === 'failed' || status === 'cancelled') && (
          <button type="button" onClick={() => act('retry')} disabled={busy !== null}>
            {busy === 'retry' ? 'Retrying…' : 'Retry'}
          </button>
        )}
        <button type="button" className="secondary" onClick={copy}>
          Copy as curl
        </button>
      </div>
      {problem && (
        <p className="form-error" role="alert">
          {problem}
        </p>
      )}
      {curl && (
        <div className="curl">
          <p role="status">
            {curl.copied ? 'Copied to the clipboard.' : 'Copy the command below.'} It reads the credential from{' '}
            {auth === 'key' ? (
              <code>$GPTMARKET_API_KEY</code>
            ) : auth === 'basic' ? (
              <code>$GPTMARKET_USER / $GPTMARKET_PASSWORD</code>
            ) : (
              'nowhere (the gateway is open)'
            )}
            .
          </p>
          <pre tabIndex={0} aria-label="curl command">
            {curl.command}
          </pre>
        </div>
      )}
    </section>
  );
}

function Output({ output }: { output: Record<string, unknown> }) {
  // The final results first, then what was made on the way (the output's order otherwise).
  const media = mediaOf(output).sort((a, b) => Number(!a.path.startsWith('final')) - Number(!b.path.startsWith('final')));
  const posters = new Set(media.flatMap((m) => (m.poster ? [m.poster] : [])));
  return (
    <section aria-labelledby="output-title">
      <h2 id="output-title">Output</h2>
      <div className="media">
        {media
          .filter((m) => m.kind !== 'file' && !posters.has(m.url))
          .map((m) => (
            <Media key={m.path} item={m} />
          ))}
        {media
          .filter((m) => posters.has(m.url))
          .map((m) => (
            <Media key={m.path} item={m} />
          ))}
      </div>
      {media.some((m) => m.kind === 'file') && (
        <ul>
          {media
            .filter((m) => m.kind === 'file')
            .map((m) => (
              <li key={m.path}>
                <a href={m.url}>{m.label}</a>
              </li>
            ))}
        </ul>
      )}
      <details>
        <summary>The output as JSON</summary>
        <pre tabIndex={0} aria-label="Output JSON">
          {JSON.stringify(output, null, 2)}
        </pre>
      </details>
    </section>
  );
}

function Media({ item }: { item: MediaItem }) {
  const caption = (
    <figcaption>
      {item.label} <span className="ai-label">AI-generated</span> · <a href={item.url}>open file</a>
    </figcaption>
  );
  return (
    <figure className={`media-${item.kind}`}>
      {item.kind === 'video' && (
        <video controls playsInline preload="metadata" src={item.url} poster={item.poster} data-output={item.path} />
      )}
      {item.kind === 'image' && <img src={item.url} alt={`${item.label} (AI-generated)`} loading="lazy" data-output={item.path} />}
      {item.kind === 'audio' && <audio controls preload="metadata" src={item.url} data-output={item.path} />}
      {caption}
    </figure>
  );
}
