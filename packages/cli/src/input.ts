import { checkGenerationInput, getForm, getFormRegistry, type FieldDefinition, type FormDefinition } from '@gptmarket/sdk';
import { UsageError } from './args.js';

/** `video_duration`, `video-duration` and `Video-Duration` name the same field. */
export const fieldName = (option: string) => option.replace(/-/g, '_').toLowerCase();

export function formOf(type: string | undefined): FormDefinition {
  const known = Object.keys(getFormRegistry()).join(', ');
  if (!type) throw new UsageError(`name a generation type: gptmarket generate <type> (one of ${known})`);
  const form = getForm(type);
  if (!form) throw new UsageError(`unknown generation type "${type}" (one of ${known})`);
  return form;
}

const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i;
const TRUE = new Set(['true', 'yes', 'on', '1']);
const FALSE = new Set(['false', 'no', 'off', '0']);

/**
 * A command-line value as the field's kind takes it: numbers, booleans (`--slowed_video` alone is true), JSON objects
 * (`--image_model_params '{"seed": 4}'`), `null` for a nullable field. A value that does not read as its kind is passed
 * on as the text it is, so the contract says what is wrong with it in its own words.
 */
export function coerce(field: FieldDefinition, raw: string | true): unknown {
  if (raw === true) {
    if (field.type === 'checkbox') return true;
    throw new UsageError(`--${field.name} needs a value`);
  }
  if (field.nullable && raw === 'null') return null;
  switch (field.type) {
    case 'number':
      return NUMBER.test(raw.trim()) ? Number(raw) : raw;
    case 'checkbox': {
      const v = raw.toLowerCase();
      return TRUE.has(v) ? true : FALSE.has(v) ? false : raw;
    }
    case 'select': {
      const numeric = field.options?.some((o) => typeof o.value === 'number');
      return numeric && NUMBER.test(raw.trim()) ? Number(raw) : raw;
    }
    case 'json':
      try {
        return JSON.parse(raw);
      } catch (err) {
        throw new UsageError(`--${field.name}: not valid JSON (${(err as Error).message}); e.g. --${field.name} '{"key": 1}'`);
      }
    default:
      return raw;
  }
}

/** What `fieldsHelp` shows for one field: `--emotion <shocked|happy|…> (default "shocked")`. */
function describeField(f: FieldDefinition): string {
  const kind =
    f.type === 'checkbox'
      ? '[true|false]'
      : f.type === 'number'
        ? '<number>'
        : f.type === 'json'
          ? '<JSON object>'
          : f.options
            ? `<${f.options.map((o) => o.value).join('|')}${f.allowCustom ? '|…' : ''}>`
            : '<text>';
  const notes = [
    f.required ? 'required' : f.default !== undefined && f.default !== null ? `default ${JSON.stringify(f.default)}` : '',
    f.nullable ? 'may be null' : '',
    f.models ? `params of the chosen ${f.modelField}: ${Object.keys(f.models).join(', ')}` : '',
  ].filter(Boolean);
  return `  --${f.name} ${kind}${notes.length ? `  (${notes.join('; ')})` : ''}${f.description ? `\n      ${f.description}` : ''}`;
}

export const fieldsHelp = (form: FormDefinition) =>
  `${form.name} (${form.type}): ${form.description}\nfields:\n${form.fields.map(describeField).join('\n')}`;

/**
 * The `input` of a generation from the command line's field options, checked as the gateway will check it (the
 * contracts' request schema and model params). Throws a {@link UsageError} naming each bad field with the
 * contract's message; nothing is sent then.
 */
export function buildInput(
  form: FormDefinition,
  options: ReadonlyMap<string, string | true>,
): { input: Record<string, unknown>; warnings: string[] } {
  const input: Record<string, unknown> = {};
  for (const [option, raw] of options) {
    const name = fieldName(option);
    const field = form.fields.find((f) => f.name === name);
    if (!field) {
      throw new UsageError(`unknown field --${option} for ${form.type}; its fields: ${form.fields.map((f) => `--${f.name}`).join(', ')}`);
    }
    if (Object.hasOwn(input, name)) throw new UsageError(`--${name} is given twice`);
    input[name] = coerce(field, raw);
  }
  const check = checkGenerationInput(form.type, input);
  if (!check.ok) {
    throw new UsageError(check.issues.map((i) => (i.path === '(root)' ? i.message : `--${i.path}: ${i.message}`)).join('\n'));
  }
  return { input, warnings: check.warnings };
}
