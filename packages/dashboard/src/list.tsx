/** The generations, newest first: filters by status and type, "load more", kept current while any is unfinished. */
import { getFormRegistry, type Generation } from '@gptmarket/sdk';
import { useGenerationList } from '@gptmarket/sdk/react';
import { useEffect, useState } from 'react';
import { STATUS_LABEL, STATUSES, age, costText } from './format.js';
import { BASE, Link, navigate, useLocation } from './router.js';
import { errorText } from './session.js';
import { PageHeading, StatusBadge, typeName } from './ui.js';

/** Re-renders every `ms`, so ages stay true. */
function useNow(ms: number): number {
  const [now, setNow] = useState(Date.now);
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), ms);
    return () => clearInterval(timer);
  }, [ms]);
  return now;
}

export function ListPage() {
  const { query } = useLocation();
  const status = STATUSES.find((s) => s === query.get('status'));
  const type = query.get('type') ?? '';
  const list = useGenerationList({ status, type: type || undefined, limit: 20 });
  const now = useNow(10_000);

  const filter = (name: 'status' | 'type', value: string) => {
    const next = new URLSearchParams(query);
    if (value) next.set(name, value);
    else next.delete(name);
    const qs = next.toString();
    navigate(qs ? `${BASE}?${qs}` : BASE, { replace: true });
  };

  return (
    <>
      <div className="title-row">
        <PageHeading>Generations</PageHeading>
        <Link to={`${BASE}/new`} className="button">
          New generation
        </Link>
      </div>
      <form className="filters" role="search" aria-label="Filter generations" onSubmit={(e) => e.preventDefault()}>
        <div className="field">
          <label htmlFor="filter-status">Status</label>
          <select id="filter-status" value={status ?? ''} onChange={(e) => filter('status', e.target.value)}>
            <option value="">Any status</option>
            {STATUSES.map((s) => (
              <option key={s} value={s}>
                {STATUS_LABEL[s]}
              </option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor="filter-type">Type</label>
          <select id="filter-type" value={type} onChange={(e) => filter('type', e.target.value)}>
            <option value="">Any type</option>
            {Object.values(getFormRegistry()).map((f) => (
              <option key={f.type} value={f.type}>
                {f.name}
              </option>
            ))}
          </select>
        </div>
      </form>
      {list.error !== null && (
        <p className="form-error" role="alert">
          {errorText(list.error)}
        </p>
      )}
      {list.isLoading ? (
        <p role="status">Loading generations…</p>
      ) : list.generations.length === 0 ? (
        <p role="status">
          No generations {status || type ? 'match these filters' : 'yet'}. <Link to={`${BASE}/new`}>Start one</Link>.
        </p>
      ) : (
        <ul className="generations" aria-label="Generations">
          {list.generations.map((g) => (
            <Row key={g.id} generation={g} now={now} />
          ))}
        </ul>
      )}
      {list.hasMore && (
        <button type="button" className="secondary more" onClick={list.loadMore} disabled={list.isLoadingMore}>
          {list.isLoadingMore ? 'Loading…' : 'Load more'}
        </button>
      )}
    </>
  );
}

function Row({ generation: g, now }: { generation: Generation; now: number }) {
  return (
    <li className="row" data-id={g.id} data-status={g.status}>
      <Link to={`${BASE}/generations/${g.id}`} className="row-link">
        <span className="row-type">{typeName(g.type)}</span> <span className="row-id">{g.id}</span>
      </Link>
      <StatusBadge status={g.status} />
      <span className="row-step">{g.status === 'running' && g.current_step ? g.current_step.step_name : ''}</span>
      <time dateTime={g.created_at} title={new Date(g.created_at).toLocaleString()}>
        {age(g.created_at, now)}
      </time>
      <span className="row-cost">{costText(g.cost)}</span>
    </li>
  );
}
