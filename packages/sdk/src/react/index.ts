/**
 * React bindings of the SDK (`@gptmarket/sdk/react`; React ≥ 18 is a peer dependency). Put a client in context
 * with `<GptMarketProvider client={client}>` (or pass `client` to each hook):
 *
 * - `useGeneration(id)`: the record, live status and steps over SSE (resuming with `Last-Event-ID` after a drop);
 * - `useCreateGeneration()`: `create(type, input)` with pending/error state;
 * - `useGenerationForm(type)`: fields, defaults and per-model params from the form registry, validated with the
 *   contracts' messages before anything is sent;
 * - `useGenerationList(params)`: a list of generations with keyset "load more", kept current while any is unfinished.
 */
import { createContext, createElement, useCallback, useContext, useEffect, useMemo, useRef, useState, type ReactNode } from 'react';
import type { ContractIssue } from '@gptmarket/contracts';
import { isFinalStatus, type CreateGenerationOptions, type GptMarketClient } from '../client.js';
import { checkGenerationInput, formDefaults, formValuesToInput, getForm, type FieldDefinition, type FormDefinition } from '../forms.js';
import type { Generation, GenerationFor, InputFor, ListGenerationsParams, StepProgress, WorkflowStatus } from '../types.js';

const ClientContext = createContext<GptMarketClient | null>(null);

export interface GptMarketProviderProps {
  client: GptMarketClient;
  children?: ReactNode;
}

/** Makes `client` the one the hooks below use. */
export function GptMarketProvider({ client, children }: GptMarketProviderProps) {
  return createElement(ClientContext.Provider, { value: client }, children);
}

/** The client of the nearest `GptMarketProvider`, or `override`. */
export function useGptMarketClient(override?: GptMarketClient): GptMarketClient {
  const fromContext = useContext(ClientContext);
  const client = override ?? fromContext;
  if (!client) throw new Error('no GptMarketClient: wrap the tree in <GptMarketProvider client={...}> or pass { client }');
  return client;
}

export interface UseGenerationOptions {
  client?: GptMarketClient;
}

export interface GenerationState {
  /** The record: fetched first, replaced by the final event's record. Null until the first answer. */
  generation: Generation | null;
  status: WorkflowStatus | null;
  currentStep: StepProgress | null;
  /** Every step reported so far, in order, each with its latest report (`completed` once a later step began). */
  steps: StepProgress[];
  /** `completed`, `failed` or `cancelled` was reached. */
  isFinal: boolean;
  /** The event stream is open (false while reconnecting). */
  connected: boolean;
  /** Reconnections so far (after drops, with `Last-Event-ID`). */
  reconnects: number;
  /** A fatal error (401, 404, ...); the hook stops. */
  error: unknown;
}

const EMPTY: GenerationState = {
  generation: null,
  status: null,
  currentStep: null,
  steps: [],
  isFinal: false,
  connected: false,
  reconnects: 0,
  error: null,
};

/** Steps run one after another: when a new one begins, those still `running` before it are done. */
function withStep(steps: StepProgress[], step: StepProgress | null): StepProgress[] {
  if (!step) return steps;
  const i = steps.findIndex((s) => s.step_id === step.step_id);
  if (i === -1) return [...steps.map((s) => (s.status === 'running' ? { ...s, status: 'completed' as const } : s)), step];
  if (JSON.stringify(steps[i]) === JSON.stringify(step)) return steps;
  return steps.map((s, j) => (j === i ? step : s));
}

/**
 * Follows one generation: `GET /v1/generations/:id`, then its event stream until a final event. A null/undefined
 * id renders the empty state; a new id starts over.
 */
export function useGeneration(id: string | null | undefined, options: UseGenerationOptions = {}): GenerationState {
  const client = useGptMarketClient(options.client);
  const [state, setState] = useState<GenerationState>(EMPTY);

  useEffect(() => {
    setState(EMPTY);
    if (!id) return;
    const controller = new AbortController();
    const update = (patch: (s: GenerationState) => Partial<GenerationState>) => {
      if (!controller.signal.aborted) setState((s) => ({ ...s, ...patch(s) }));
    };
    const settle = (generation: Generation) =>
      update((s) => ({
        generation,
        status: generation.status,
        currentStep: generation.current_step,
        steps: withStep(s.steps, generation.current_step),
        isFinal: isFinalStatus(generation.status),
        connected: false,
      }));
    (async () => {
      try {
        const first = await client.getGeneration(id, { signal: controller.signal });
        settle(first);
        if (isFinalStatus(first.status)) return;
      } catch (error) {
        if (!controller.signal.aborted) update(() => ({ error }));
        return;
      }
      client.subscribe<Generation>(
        id,
        {
          onOpen: () => update(() => ({ connected: true })),
          onProgress: (p) => update((s) => ({ status: p.status, currentStep: p.current_step, steps: withStep(s.steps, p.current_step) })),
          onFinal: settle,
          onReconnect: () => update((s) => ({ connected: false, reconnects: s.reconnects + 1 })),
          onError: (error) => update(() => ({ error, connected: false })),
        },
        { signal: controller.signal },
      );
    })();
    return () => controller.abort();
  }, [client, id]);

  return state;
}

export interface CreateGenerationState {
  /** Starts a generation; resolves with the record (status `pending`), rejects with the `GptMarketError`. */
  create<T extends string>(type: T, input: InputFor<T>, options?: CreateGenerationOptions): Promise<GenerationFor<T>>;
  generation: Generation | null;
  isPending: boolean;
  error: unknown;
  reset(): void;
}

/** `POST /v1/generations` with pending and error state. */
export function useCreateGeneration(options: { client?: GptMarketClient } = {}): CreateGenerationState {
  const client = useGptMarketClient(options.client);
  const [generation, setGeneration] = useState<Generation | null>(null);
  const [isPending, setPending] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const mounted = useRef(true);
  useEffect(() => {
    mounted.current = true;
    return () => {
      mounted.current = false;
    };
  }, []);

  const create = useCallback(
    async <T extends string>(type: T, input: InputFor<T>, createOptions?: CreateGenerationOptions): Promise<GenerationFor<T>> => {
      setPending(true);
      setError(null);
      try {
        const created = await client.createGeneration(type, input, createOptions);
        if (mounted.current) setGeneration(created as Generation);
        return created;
      } catch (err) {
        if (mounted.current) setError(err);
        throw err;
      } finally {
        if (mounted.current) setPending(false);
      }
    },
    [client],
  );
  const reset = useCallback(() => {
    setGeneration(null);
    setError(null);
  }, []);
  return { create, generation, isPending, error, reset };
}

export interface GenerationFormState {
  /** The type's form, or null for a type the SDK does not know. */
  form: FormDefinition | null;
  /** Fields to show by default (not `hidden`). */
  fields: FieldDefinition[];
  values: Record<string, unknown>;
  setValue(name: string, value: unknown): void;
  /** Sets one param of a model params field (e.g. `image_model_params`, `num_inference_steps`). */
  setModelParam(field: string, param: string, value: unknown): void;
  /** The params fields of the model currently chosen for a model params field. */
  modelParamFields(field: string): FieldDefinition[];
  /** The first message per path (`video_duration`, `image_model_params.output_quality`), after `validate()`. */
  errors: Record<string, string>;
  /** Unknown model params the gateway will drop, after `validate()`. */
  warnings: string[];
  /** Checks the values with the contracts; returns the input to send, or null (and sets `errors`). */
  validate(): Record<string, unknown> | null;
  reset(): void;
}

/** A form for a generation type, from the SDK's form registry (`getForm(type)`), prefilled with the defaults. */
export function useGenerationForm(type: string): GenerationFormState {
  const form = useMemo(() => getForm(type) ?? null, [type]);
  const initial = useCallback(() => (form ? formDefaults(form) : {}), [form]);
  const [values, setValues] = useState<Record<string, unknown>>(initial);
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [warnings, setWarnings] = useState<string[]>([]);
  const lastType = useRef(type);
  if (lastType.current !== type) {
    // A new type: start from its defaults in this render (no stale values of the previous type).
    lastType.current = type;
    const fresh = initial();
    setValues(fresh);
    setErrors({});
    setWarnings([]);
  }

  const dropError = (path: string) =>
    setErrors((e) => {
      if (!Object.keys(e).some((k) => k === path || k.startsWith(`${path}.`))) return e;
      return Object.fromEntries(Object.entries(e).filter(([k]) => k !== path && !k.startsWith(`${path}.`)));
    });
  const setValue = useCallback((name: string, value: unknown) => {
    setValues((v) => ({ ...v, [name]: value }));
    dropError(name);
  }, []);
  const setModelParam = useCallback((field: string, param: string, value: unknown) => {
    setValues((v) => {
      const current = v[field];
      const params = typeof current === 'object' && current !== null ? (current as Record<string, unknown>) : {};
      return { ...v, [field]: { ...params, [param]: value } };
    });
    dropError(`${field}.${param}`);
  }, []);
  const modelParamFields = useCallback(
    (name: string): FieldDefinition[] => {
      const field = form?.fields.find((f) => f.name === name);
      if (!field?.models || !field.modelField) return [];
      const chosen = values[field.modelField] ?? form?.fields.find((f) => f.name === field.modelField)?.default;
      return typeof chosen === 'string' ? (field.models[chosen] ?? []) : [];
    },
    [form, values],
  );
  const validate = useCallback((): Record<string, unknown> | null => {
    const check = checkGenerationInput(type, formValuesToInput(values));
    if (!check.ok) {
      const byPath: Record<string, string> = {};
      for (const issue of check.issues as ContractIssue[]) byPath[issue.path] ??= issue.message; // the first per field
      setErrors(byPath);
      setWarnings([]);
      return null;
    }
    setErrors({});
    setWarnings(check.warnings);
    return formValuesToInput(values);
  }, [type, values]);
  const reset = useCallback(() => {
    setValues(initial());
    setErrors({});
    setWarnings([]);
  }, [initial]);

  const fields = useMemo(() => form?.fields.filter((f) => !f.hidden) ?? [], [form]);
  return { form, fields, values, setValue, setModelParam, modelParamFields, errors, warnings, validate, reset };
}

export interface UseGenerationListOptions {
  client?: GptMarketClient;
  /** How often the list is read again while any generation shown is unfinished; default 3 s. */
  pollMs?: number;
  /** How often it is read again when all are finished (to show new ones); default 15 s, null: never. */
  idlePollMs?: number | null;
}

export interface GenerationListState {
  /** Newest first: the pages loaded so far, each generation in its latest known state. */
  generations: Generation[];
  /** More pages exist: `loadMore()` fetches the next. */
  hasMore: boolean;
  /** The first page is being read (after mount or a change of filters). */
  isLoading: boolean;
  isLoadingMore: boolean;
  /** The last read's error, null once one succeeds. */
  error: unknown;
  loadMore(): void;
  /** Reads the list again now. */
  refresh(): void;
}

interface ListState {
  generations: Generation[];
  /** `next_cursor` of the last page loaded. */
  cursor: string | null;
  isLoading: boolean;
  isLoadingMore: boolean;
  error: unknown;
}

const EMPTY_LIST: ListState = { generations: [], cursor: null, isLoading: true, isLoadingMore: false, error: null };

/**
 * `GET /v1/generations` with `params` (type, status, limit), newest first, with keyset paging: `loadMore()` appends
 * the next page. While any generation shown is unfinished the first page is read again every `pollMs` (new ones appear
 * at the top) and unfinished ones further down are read one by one, so every status stays current.
 */
export function useGenerationList(params: ListGenerationsParams = {}, options: UseGenerationListOptions = {}): GenerationListState {
  const client = useGptMarketClient(options.client);
  const { type, status, limit } = params;
  const pollMs = options.pollMs ?? 3_000;
  const idlePollMs = options.idlePollMs === undefined ? 15_000 : options.idlePollMs;
  const [state, setState] = useState<ListState>(EMPTY_LIST);
  const [tick, setTick] = useState(0);
  const current = useRef(state);
  current.current = state;
  /** Bumped by a change of filters: answers to reads of the previous filters are dropped. */
  const epoch = useRef(0);
  const filters = JSON.stringify([type ?? null, status ?? null, limit ?? null]);
  const lastFilters = useRef(filters);
  if (lastFilters.current !== filters) {
    // New filters: start over in this render (no rows of the previous filters).
    lastFilters.current = filters;
    epoch.current++;
    setState(EMPTY_LIST);
  }

  // The first page, again on every tick (poll or refresh), merged so that the pages loaded further down stay; the
  // unfinished generations further down are read one by one.
  useEffect(() => {
    const mine = epoch.current;
    const controller = new AbortController();
    const signal = controller.signal;
    (async () => {
      try {
        const page = await client.listGenerations({ type, status, limit }, { signal });
        const onPage = new Set(page.data.map((g) => g.id));
        const below = current.current.generations.filter((g) => !onPage.has(g.id) && !isFinalStatus(g.status)).slice(0, 20);
        const reread = await Promise.all(below.map((g) => client.getGeneration(g.id, { signal }).catch(() => g)));
        const fresh = new Map(reread.map((g) => [g.id, g]));
        if (signal.aborted || mine !== epoch.current) return;
        setState((s) => {
          const rest = s.generations.filter((g) => !onPage.has(g.id)).map((g) => fresh.get(g.id) ?? g);
          // The cursor is the position of the last page loaded; with nothing below the first page, the first page's.
          return {
            ...s,
            generations: [...page.data, ...rest],
            cursor: rest.length === 0 ? page.next_cursor : s.cursor,
            isLoading: false,
            error: null,
          };
        });
      } catch (error) {
        if (!signal.aborted && mine === epoch.current) setState((s) => ({ ...s, isLoading: false, error }));
      }
    })();
    return () => controller.abort();
  }, [client, type, status, limit, tick]);

  const unfinished = state.generations.some((g) => !isFinalStatus(g.status));
  const delay = state.isLoading ? null : unfinished ? pollMs : idlePollMs;
  useEffect(() => {
    if (delay === null) return;
    const timer = setTimeout(() => setTick((t) => t + 1), delay);
    return () => clearTimeout(timer);
  }, [delay, state.generations]);

  const loadMore = useCallback(() => {
    const { cursor, isLoadingMore } = current.current;
    if (!cursor || isLoadingMore) return;
    const mine = epoch.current;
    setState((s) => ({ ...s, isLoadingMore: true }));
    client.listGenerations({ type, status, limit, cursor }).then(
      (page) => {
        if (mine !== epoch.current) return;
        setState((s) => {
          const known = new Set(s.generations.map((g) => g.id));
          const more = page.data.filter((g) => !known.has(g.id));
          return { ...s, generations: [...s.generations, ...more], cursor: page.next_cursor, isLoadingMore: false, error: null };
        });
      },
      (error: unknown) => {
        if (mine === epoch.current) setState((s) => ({ ...s, isLoadingMore: false, error }));
      },
    );
  }, [client, type, status, limit]);
  const refresh = useCallback(() => setTick((t) => t + 1), []);

  return {
    generations: state.generations,
    hasMore: state.cursor !== null,
    isLoading: state.isLoading,
    isLoadingMore: state.isLoadingMore,
    error: state.error,
    loadMore,
    refresh,
  };
}
