import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { RenderPlan, type RenderPlanInput } from '@gptmarket/contracts';
import { compileRender, type CompiledRender } from '../src/ffmpeg/plan.js';
import { fontForLine, fontPath } from '../src/ffmpeg/fonts.js';
import { probeMedia } from '../src/ffmpeg/probe.js';
import { tempDir } from './helpers.js';

/** Compiles a plan for a local input and runs the ffmpeg command it gives (what the activity does, minus I/O). */
export async function render(
  input: string,
  plan: Omit<RenderPlanInput, 'input_url' | 'output'> & { output?: Partial<RenderPlanInput['output']> },
  extra: { audioInput?: string } = {},
): Promise<CompiledRender> {
  const parsed = RenderPlan.parse({
    input_url: 'https://example.com/in.mp4',
    ...plan,
    output: { folder: 'tests', thumbnails: false, preset: 'ultrafast', ...plan.output },
  });
  const dir = tempDir('mw-render-');
  const compiled = compileRender(parsed, await probeMedia(input), {
    dir,
    input,
    audioInput: extra.audioInput,
    audioInfo: extra.audioInput ? await probeMedia(extra.audioInput) : undefined,
    fontFile: (f) => fontPath(f),
    lineFont: (l, p) => fontForLine(l, p),
  });
  for (const f of compiled.textFiles) writeFileSync(f.path, f.content);
  const r = spawnSync('ffmpeg', compiled.args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`ffmpeg failed: ${r.stderr}`);
  return compiled;
}
