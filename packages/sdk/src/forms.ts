import { z } from 'zod';
import {
  GENERATION_TYPES,
  ModelInputError,
  REWRITE_IGNORED_WARNING,
  RUBY_SUGGESTIONS,
  checkModelRequest,
  formatIssues,
  generationTypeInfo,
  getGenerationType,
  inputJsonSchema,
  type ContractIssue,
} from '@gptmarket/contracts';
import type { GenerationTypeInfo, GenerationTypeName, JsonSchema } from './types.js';

/**
 * A form-field registry derived from the contracts, for building generation forms (the TypeScript successor of the
 * Python system's generated `registry.ts`). Fields come from walking the JSON Schema of a type's input
 * (`inputJsonSchema` of the contracts, `io: 'input'`), so defaults, bounds and enums are the contract's own, model
 * params fields included (`models`: the fields of each model). Request contracts have no `secret_key`, so it is never
 * a field.
 */

export type FieldType = 'text' | 'textarea' | 'number' | 'select' | 'checkbox' | 'json';

export interface SelectOption {
  value: string | number;
  label: string;
}

export interface FieldValidation {
  min?: number;
  max?: number;
  /** The bound itself is not allowed. */
  exclusiveMin?: number;
  exclusiveMax?: number;
  /** Whole numbers only. */
  integer?: boolean;
  minLength?: number;
  maxLength?: number;
  /** A regular expression source; compile it with the `u` flag (contracts use Unicode property escapes). */
  pattern?: string;
  /** JSON Schema format, e.g. `uri` or `date`. */
  format?: string;
}

export interface FieldDefinition {
  name: string;
  type: FieldType;
  label: string;
  description: string | null;
  /** The caller must give a value (there is no default). */
  required: boolean;
  /** The contract's default, `undefined` when it has none. */
  default: unknown;
  /** `null` is an accepted value (leave the field empty). */
  nullable: boolean;
  options?: SelectOption[];
  /** The options are suggestions: any other value that passes `validation` is accepted too. */
  allowCustom?: boolean;
  validation?: FieldValidation;
  /** Expert fields (`*_params`, `*_model`): keep them out of a default form. */
  hidden?: boolean;
  /** A model params field (e.g. Ruby's `image_model_params`): the field that names the model. */
  modelField?: string;
  /**
   * The params each model of `modelField` takes, by model id (every one optional; leave a field empty to keep the
   * model's default). Show those of the chosen model; the field's value is an object of them.
   */
  models?: Record<string, FieldDefinition[]>;
}

export interface FormDefinition {
  type: string;
  name: string;
  description: string;
  workflowType: string;
  fields: FieldDefinition[];
}

/**
 * Fields no form ever shows: the rewrite options the platform refuses (REWRITE_IGNORED_WARNING in packages/contracts),
 * and the workflow credential should a schema from elsewhere (an older gateway's catalogue) list it.
 */
export const EXCLUDED_FORM_FIELDS: readonly string[] = ['secret_key', 'rewrite_enabled', 'rewrite_device'];

/** Suggested values per type and field (`Literal | str` in the Python system): select options that allow custom values. */
export const FIELD_SUGGESTIONS: Partial<Record<GenerationTypeName, Readonly<Record<string, readonly string[]>>>> = {
  ruby: RUBY_SUGGESTIONS,
};

const ACRONYMS: Record<string, string> = { url: 'URL', id: 'ID', api: 'API', ai: 'AI', pct: '%' };

/** `early_20s` → `Early 20s`, `middle_eastern` → `Middle Eastern`; words that are not all lower case stay as written. */
export function titleCase(value: string): string {
  return value
    .split(/[_\s]+/)
    .filter(Boolean)
    .map((w) => (w === w.toLowerCase() ? w.charAt(0).toUpperCase() + w.slice(1) : w))
    .join(' ');
}

/** A field label from its name: `video_duration` → `Video Duration`, `media_url` → `Media URL`. */
export function fieldLabel(name: string): string {
  return name
    .split('_')
    .filter(Boolean)
    .map((w) => ACRONYMS[w] ?? w.charAt(0).toUpperCase() + w.slice(1))
    .join(' ');
}

export interface FormFieldOptions {
  /** Suggested values by field name; they make string fields selects with `allowCustom`. */
  suggestions?: Readonly<Record<string, readonly string[]>>;
  /** More field names to leave out (on top of {@link EXCLUDED_FORM_FIELDS}). */
  exclude?: readonly string[];
}

type Schema = Record<string, unknown>;
const isSchema = (v: unknown): v is Schema => typeof v === 'object' && v !== null && !Array.isArray(v);
const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);

/** Splits `null` off a schema: `anyOf: [X, {type: null}]` or `type: [X, 'null']` → X, nullable. */
function unwrapNullable(schema: Schema): { schema: Schema; nullable: boolean } {
  for (const key of ['anyOf', 'oneOf'] as const) {
    const members = schema[key];
    if (!Array.isArray(members)) continue;
    const nonNull = members.filter((m) => !(isSchema(m) && m.type === 'null'));
    if (nonNull.length === members.length) continue;
    const { [key]: _members, ...rest } = schema;
    if (nonNull.length === 1 && isSchema(nonNull[0])) return { schema: { ...rest, ...nonNull[0] }, nullable: true };
    return { schema: { ...rest, [key]: nonNull }, nullable: true };
  }
  if (Array.isArray(schema.type) && schema.type.includes('null')) {
    const types = schema.type.filter((t) => t !== 'null');
    return { schema: { ...schema, type: types.length === 1 ? types[0] : types }, nullable: true };
  }
  return { schema, nullable: false };
}

const TEXTAREA_NAME = /(^|_)(prompt|description|text|summary)(_|$)/;
const HIDDEN_NAME = /(_params|_model)$/;

function clone<T>(value: T): T {
  return value === undefined ? value : (JSON.parse(JSON.stringify(value)) as T);
}

function fieldFromSchema(name: string, raw: Schema, required: boolean, suggestions: readonly string[] | undefined): FieldDefinition {
  const { schema, nullable } = unwrapNullable(raw);
  const field: FieldDefinition = {
    name,
    type: 'text',
    label: typeof schema.title === 'string' ? schema.title : fieldLabel(name),
    description: typeof schema.description === 'string' ? schema.description : null,
    required,
    default: clone(raw.default ?? schema.default),
    nullable,
  };
  const validation: FieldValidation = {};
  const type = schema.type;
  const enumValues = Array.isArray(schema.enum) ? schema.enum : schema.const !== undefined ? [schema.const] : undefined;

  if (enumValues && enumValues.every((v) => typeof v === 'string' || typeof v === 'number')) {
    field.type = 'select';
    field.options = (enumValues as (string | number)[]).map((v) => ({ value: v, label: typeof v === 'string' ? titleCase(v) : String(v) }));
  } else if (type === 'boolean') {
    field.type = 'checkbox';
  } else if (type === 'integer' || type === 'number') {
    field.type = 'number';
    if (type === 'integer') validation.integer = true;
    const min = num(schema.minimum);
    const max = num(schema.maximum);
    const exMin = num(schema.exclusiveMinimum);
    const exMax = num(schema.exclusiveMaximum);
    if (min !== undefined) validation.min = min;
    if (max !== undefined) validation.max = max;
    if (exMin !== undefined) validation.exclusiveMin = exMin;
    if (exMax !== undefined) validation.exclusiveMax = exMax;
  } else if (type === 'string') {
    const maxLength = num(schema.maxLength);
    field.type = TEXTAREA_NAME.test(name) || (maxLength !== undefined && maxLength > 500) ? 'textarea' : 'text';
    if (suggestions && suggestions.length > 0) {
      const values = [...suggestions];
      if (typeof field.default === 'string' && !values.includes(field.default)) values.unshift(field.default);
      field.type = 'select';
      field.options = values.map((v) => ({ value: v, label: titleCase(v) }));
      field.allowCustom = true;
    }
  } else {
    field.type = 'json'; // objects, arrays, unions of several kinds
  }
  if (type === 'string' || (field.type === 'select' && field.allowCustom)) {
    const minLength = num(schema.minLength);
    const maxLength = num(schema.maxLength);
    if (minLength !== undefined) validation.minLength = minLength;
    if (maxLength !== undefined) validation.maxLength = maxLength;
    if (typeof schema.pattern === 'string') validation.pattern = schema.pattern;
    if (typeof schema.format === 'string') validation.format = schema.format;
  }
  if (Object.keys(validation).length > 0) field.validation = validation;
  if (HIDDEN_NAME.test(name)) field.hidden = true;
  // A model params field of the contracts (`inputJsonSchema`): one object schema per model, titled with its id.
  if (typeof schema['x-model-field'] === 'string' && Array.isArray(schema.anyOf)) {
    field.modelField = schema['x-model-field'];
    field.models = Object.fromEntries(
      schema.anyOf
        .filter((m): m is Schema => isSchema(m) && typeof m.title === 'string')
        .map((m) => [m.title as string, formFieldsFromJsonSchema(m)]),
    );
  }
  return field;
}

/**
 * Form fields of an object JSON Schema (e.g. `input_schema` from `GET /v1/generation-types`, so a browser can
 * build forms for types it was not compiled with). Excluded fields never appear.
 */
export function formFieldsFromJsonSchema(jsonSchema: JsonSchema, options: FormFieldOptions = {}): FieldDefinition[] {
  const properties = isSchema(jsonSchema.properties) ? jsonSchema.properties : {};
  const required = new Set(Array.isArray(jsonSchema.required) ? jsonSchema.required.filter((r): r is string => typeof r === 'string') : []);
  const excluded = new Set([...EXCLUDED_FORM_FIELDS, ...(options.exclude ?? [])]);
  const fields: FieldDefinition[] = [];
  for (const [name, prop] of Object.entries(properties)) {
    if (excluded.has(name) || !isSchema(prop)) continue;
    fields.push(fieldFromSchema(name, prop, required.has(name), options.suggestions?.[name]));
  }
  return fields;
}

/**
 * The form of an entry of the gateway's catalogue (`client.generationTypes()`), for types this SDK may not have
 * been compiled with; suggestions known to the SDK apply to the types it knows.
 */
export function formFromGenerationType(info: GenerationTypeInfo): FormDefinition {
  const suggestions = Object.hasOwn(FIELD_SUGGESTIONS, info.type) ? FIELD_SUGGESTIONS[info.type as GenerationTypeName] : undefined;
  return {
    type: info.type,
    name: info.name,
    description: info.description,
    workflowType: info.workflow_type,
    fields: formFieldsFromJsonSchema(info.input_schema, suggestions ? { suggestions } : {}),
  };
}

/** Form fields of a zod object schema, as the client sends it (`io: 'input'`: defaulted fields are optional). */
export function formFieldsFromSchema(schema: z.ZodType, options: FormFieldOptions = {}): FieldDefinition[] {
  return formFieldsFromJsonSchema(inputJsonSchema(schema) as JsonSchema, options);
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

let registry: Record<GenerationTypeName, FormDefinition> | undefined;

/** The form of every generation type of the contracts, computed once on first use. */
export function getFormRegistry(): Readonly<Record<GenerationTypeName, FormDefinition>> {
  if (!registry) {
    // The same forms a browser builds from the gateway's catalogue: one derivation for both.
    const entries = Object.values(GENERATION_TYPES).map((t) => [t.type, formFromGenerationType(generationTypeInfo(t))] as const);
    registry = deepFreeze(Object.fromEntries(entries) as Record<GenerationTypeName, FormDefinition>);
  }
  return registry;
}

/** The form of one generation type, or undefined for a name the contracts do not know. */
export function getForm(type: string): FormDefinition | undefined {
  const all = getFormRegistry() as Record<string, FormDefinition>;
  return Object.hasOwn(all, type) ? all[type] : undefined;
}

/** The default values of a form's fields (those that have one), ready to prefill inputs. */
export function formDefaults(form: FormDefinition | readonly FieldDefinition[]): Record<string, unknown> {
  const fields = Array.isArray(form) ? (form as readonly FieldDefinition[]) : (form as FormDefinition).fields;
  const values: Record<string, unknown> = {};
  for (const f of fields) if (f.default !== undefined) values[f.name] = clone(f.default);
  return values;
}

/** Empty form values (`''`, `undefined`, empty params objects) are left out, so the contract's defaults apply. */
export function formValuesToInput(values: Readonly<Record<string, unknown>>): Record<string, unknown> {
  const input: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(values)) {
    if (value === '' || value === undefined) continue;
    if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
      const inner = formValuesToInput(value as Record<string, unknown>);
      if (Object.keys(inner).length > 0) input[name] = inner;
      continue;
    }
    input[name] = value;
  }
  return input;
}

export type InputCheck = { ok: true; input: Record<string, unknown>; warnings: string[] } | { ok: false; issues: ContractIssue[] };

/**
 * Checks an input as the gateway will (packages/contracts: the type's request contract, then each model's params),
 * with the contracts' own messages; issue paths are relative to `input` (`video_duration`,
 * `image_model_params.num_inference_steps`). Unknown model params become warnings, as the gateway reports them.
 */
export function checkGenerationInput(type: string, input: unknown): InputCheck {
  const def = getGenerationType(type);
  if (!def) return { ok: false, issues: [{ path: '(root)', message: `unknown generation type "${type}"` }] };
  const parsed = def.request.safeParse(input);
  if (!parsed.success) return { ok: false, issues: formatIssues(parsed.error) };
  const data = parsed.data as Record<string, unknown>;
  const warnings = data.rewrite_enabled === true ? [REWRITE_IGNORED_WARNING] : [];
  for (const request of def.modelRequests?.(data as never) ?? []) {
    try {
      warnings.push(...checkModelRequest(request));
    } catch (err) {
      if (!(err instanceof ModelInputError)) throw err;
      const path = [request.params_field ?? request.model, ...(err.field ? [err.field] : [])].join('.');
      return { ok: false, issues: [{ path, message: err.message }] };
    }
  }
  return { ok: true, input: data, warnings };
}
