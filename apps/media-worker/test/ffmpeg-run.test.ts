import { readdirSync, readFileSync } from 'node:fs';
import { getPriority } from 'node:os';
import { describe, expect, it } from 'vitest';
import { waitFor } from '@gptmarket/testkit';
import { runFfmpeg } from '../src/ffmpeg/run.js';

/** The nice value of the running process whose command line contains `marker` (from /proc), if there is one. */
function niceOf(marker: string): number | undefined {
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
      if (!cmdline[0]?.endsWith('ffmpeg') || !cmdline.includes(marker)) continue;
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      // Fields after "(comm)": state is field 3, nice field 19.
      return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]);
    } catch {
      // gone meanwhile
    }
  }
  return undefined;
}

describe('runFfmpeg', () => {
  it('runs FFmpeg itself at the lower CPU priority it is given', async () => {
    const marker = `testsrc=duration=2:size=32x32:rate=11:decimals=${process.pid % 3}`;
    const args = ['-hide_banner', '-nostdin', '-re', '-f', 'lavfi', '-i', marker, '-f', 'null', '-'];
    const run = runFfmpeg(args, { nice: 7 });
    const nice = await waitFor('ffmpeg to be running', async () => niceOf(marker), { timeoutMs: 5_000, intervalMs: 20 });
    expect(nice).toBe(Math.min(19, getPriority() + 7));
    await run;
  });
});
