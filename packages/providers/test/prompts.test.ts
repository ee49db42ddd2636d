import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderTemplate, TEMPLATE_NAMES, TemplateError } from '../src/index.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'prompts-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const person = {
  gender: 'female',
  age_range: 'early_20s',
  emotion: 'shocked',
  style: 'coquette',
  background: 'bedroom',
  hair_color: 'copper red',
  ethnicity: 'south asian',
  clothing: 'oversized hoodie',
  context: null,
};

describe('prompt templates', () => {
  it('every shipped template parses, has a system and user part and a version', async () => {
    const vars: Record<string, Record<string, string | number | null>> = {
      'ugc-person': person,
      'ugc-video-reaction': { emotion: 'shocked', context: 'a text message', duration: 5 },
      'pinterest-queries': { prompt: 'cozy autumn', count: 5 },
      'transcript-summary': { transcript: 'A: hi', meeting_date: '2026-11-21' },
    };
    for (const name of TEMPLATE_NAMES) {
      const r = await renderTemplate(name, vars[name]!);
      expect(r.system.length, name).toBeGreaterThan(50);
      expect(r.user.length, name).toBeGreaterThan(20);
      expect(r.version).toMatch(new RegExp(`^${name}@\\d+\\+shipped:[0-9a-f]{12}$`));
      expect(r.user + r.system).not.toMatch(/\{\{/);
    }
  });

  it("the Ruby person template uses every input and asks for the Python system's prompt blocks", async () => {
    const r = await renderTemplate('ugc-person', person);
    for (const v of ['female', 'early_20s', 'shocked', 'coquette', 'bedroom', 'copper red', 'south asian', 'oversized hoodie', '(none)'])
      expect(r.user).toContain(v);
    for (const block of ['"subject"', '"apparel"', '"phone"', '"environment"', '"image_rendering"', 'iPhone_15_Pro_Max', '"ratio": "3:4"'])
      expect(r.user).toContain(block);
  });

  it('the reaction template asks for 5–7 movements and a 50–70-word final prompt, no speech, mouth closed', async () => {
    const r = await renderTemplate('ugc-video-reaction', { emotion: 'excited', context: 'a concert ticket', duration: 10 });
    expect(r.user).toContain('5 to 7');
    expect(r.user).toContain('50 to 70 words');
    expect(r.user).toContain('"final_prompt"');
    expect(r.system).toMatch(/no talking/i);
    expect(r.system).toMatch(/mouth stays closed/i);
    expect(r.user).toContain('10 seconds');
  });

  it('values are data: placeholders and $-patterns inside values are not evaluated', async () => {
    const r = await renderTemplate('pinterest-queries', { prompt: '{{count}} $& $1 {{prompt}} </x>', count: 3 });
    expect(r.user).toContain('{{count}} $& $1 {{prompt}} </x>');
    expect(r.user).toContain('Write 3 diverse');
  });

  it('a missing value, an unused input and a bad name are errors naming them', async () => {
    await expect(renderTemplate('pinterest-queries', { prompt: 'x' })).rejects.toThrow(/no value for placeholder \{\{count\}\}/);
    await expect(renderTemplate('pinterest-queries', { prompt: 'x', count: 5, extra: 'y' })).rejects.toThrow(/input extra not used/);
    await expect(renderTemplate('../etc/passwd', {})).rejects.toBeInstanceOf(TemplateError);
    await expect(renderTemplate('no-such-template', {})).rejects.toThrow(/not found/);
  });

  it('PROMPT_PATH overrides a template file by file, re-read on every call (no restart)', async () => {
    const before = await renderTemplate('pinterest-queries', { prompt: 'cats', count: 2 }, { promptPath: dir });
    expect(before.version).toMatch(/\+shipped:/);
    await writeFile(
      join(dir, 'pinterest-queries.md'),
      '---\nversion: 7\n---\n<!-- system -->\nSYS v7\n<!-- user -->\nFind {{count}} for {{prompt}}\n',
    );
    const v7 = await renderTemplate('pinterest-queries', { prompt: 'cats', count: 2 }, { promptPath: dir });
    expect(v7).toMatchObject({ system: 'SYS v7', user: 'Find 2 for cats' });
    expect(v7.version).toMatch(/^pinterest-queries@7\+override:/);
    await writeFile(
      join(dir, 'pinterest-queries.md'),
      '---\nversion: 8\n---\n<!-- system -->\nSYS v8\n<!-- user -->\n{{prompt}} x{{count}}\n',
    );
    const v8 = await renderTemplate('pinterest-queries', { prompt: 'cats', count: 2 }, { promptPath: dir });
    expect(v8).toMatchObject({ system: 'SYS v8', user: 'cats x2' });
    expect(v8.version).not.toBe(v7.version);
    // Other templates still come from the package.
    expect((await renderTemplate('ugc-video-reaction', { emotion: 'e', context: null, duration: 5 }, { promptPath: dir })).version).toMatch(
      /\+shipped:/,
    );
  });
});
