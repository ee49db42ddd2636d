/**
 * Prompt templates as versioned files: `packages/providers/prompts/<name>.md` ship with the package; a
 * directory the operator mounts (`PROMPT_PATH`) overrides them file by file. Templates are read at call
 * time, so an edited override takes effect without a restart.
 *
 * File format: optional front matter (`version: N`), then `<!-- system -->` and `<!-- user -->` sections.
 * Placeholders are `{{name}}`. Rendering is one pass: values are inserted as data (a value containing
 * `{{x}}` or `$&` stays literally as it is). A placeholder without a value, or a value the template never
 * uses, is an error naming it: a template cannot silently drop an input.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const SHIPPED_PROMPTS_DIR = fileURLToPath(new URL('../../prompts/', import.meta.url));
export const TEMPLATE_NAMES = ['ugc-person', 'ugc-video-reaction', 'pinterest-queries', 'transcript-summary'] as const;

export class TemplateError extends Error {
  override name = 'TemplateError';
}

export interface RenderedPrompt {
  system: string;
  user: string;
  /** `<name>@<version>+<source>:<sha256 prefix>`: which file and which content produced the prompt. */
  version: string;
}

const NAME = /^[a-z0-9][a-z0-9-]{0,63}$/;
const PLACEHOLDER = /\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}/g;

async function readTemplate(name: string, promptPath: string | undefined): Promise<{ text: string; source: 'override' | 'shipped' }> {
  if (promptPath) {
    try {
      return { text: await readFile(join(resolve(promptPath), `${name}.md`), 'utf8'), source: 'override' };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT')
        throw new TemplateError(`prompt template ${name}: cannot read the override (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
    }
  }
  try {
    return { text: await readFile(join(SHIPPED_PROMPTS_DIR, `${name}.md`), 'utf8'), source: 'shipped' };
  } catch {
    throw new TemplateError(`prompt template ${name} not found`);
  }
}

/** Splits a template file into its version and its system/user sections. */
export function parseTemplate(name: string, text: string): { version: string; system: string; user: string } {
  let body = text.replace(/\r\n/g, '\n');
  let version = '0';
  const fm = /^---\n([\s\S]*?)\n---\n/.exec(body);
  if (fm) {
    const v = /^version:\s*(\S+)\s*$/m.exec(fm[1]!);
    if (v) version = v[1]!;
    body = body.slice(fm[0].length);
  }
  const sys = body.indexOf('<!-- system -->');
  const usr = body.indexOf('<!-- user -->');
  if (usr < 0) throw new TemplateError(`prompt template ${name}: no <!-- user --> section`);
  const system = sys >= 0 && sys < usr ? body.slice(sys + '<!-- system -->'.length, usr).trim() : '';
  const user = body.slice(usr + '<!-- user -->'.length).trim();
  return { version, system, user };
}

function fill(name: string, text: string, values: Map<string, string>, used: Set<string>): string {
  return text.replace(PLACEHOLDER, (_m, key: string) => {
    const v = values.get(key);
    if (v === undefined) throw new TemplateError(`prompt template ${name}: no value for placeholder {{${key}}}`);
    used.add(key);
    return v;
  });
}

/** Renders a template with `vars` (null renders as "(none)"). */
export async function renderTemplate(
  name: string,
  vars: Record<string, string | number | null>,
  opts: { promptPath?: string | undefined } = {},
): Promise<RenderedPrompt> {
  if (!NAME.test(name)) throw new TemplateError('prompt template: invalid name');
  const { text, source } = await readTemplate(name, opts.promptPath ?? undefined);
  const t = parseTemplate(name, text);
  const values = new Map<string, string>();
  for (const [k, v] of Object.entries(vars)) values.set(k, v === null ? '(none)' : String(v));
  const used = new Set<string>();
  const system = fill(name, t.system, values, used);
  const user = fill(name, t.user, values, used);
  const unused = [...values.keys()].filter((k) => !used.has(k));
  if (unused.length)
    throw new TemplateError(`prompt template ${name}: input${unused.length > 1 ? 's' : ''} ${unused.join(', ')} not used by the template`);
  const hash = createHash('sha256').update(text).digest('hex').slice(0, 12);
  return { system, user, version: `${name}@${t.version}+${source}:${hash}` };
}
