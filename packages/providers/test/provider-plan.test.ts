import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { CAPABILITY_NAMES, planFromIdentity, workerIdentity } from '@gptmarket/contracts';
import { offlineAllowance, offlineRefusal, providerPlan, providersEnvShape } from '../src/index.js';

const plan = (env: Record<string, string>) => providerPlan(z.object(providersEnvShape).parse(env));

describe('providerPlan', () => {
  it('is all offline without keys', () => {
    expect(plan({})).toEqual({
      image_video: 'local',
      prompts: 'local',
      llm: 'local',
      pinterest: 'local',
      speech: 'local',
      transcription: 'local',
    });
  });

  it('names the provider each key brings, several where the worker uses several', () => {
    expect(
      plan({ REPLICATE_API_TOKEN: 'r', GEMINI_API_KEY: 'g', OPENAI_API_KEY: 'o', CARTESIA_API_KEY: 'c', ELEVENLABS_API_KEY: 'e' }),
    ).toEqual({
      image_video: 'replicate',
      prompts: 'openai',
      llm: 'gemini+openai',
      pinterest: 'local',
      speech: 'elevenlabs+cartesia',
      transcription: 'openai',
    });
    // AssemblyAI takes transcription over OpenAI entirely.
    expect(plan({ OPENAI_API_KEY: 'o', ASSEMBLYAI_API_KEY: 'a', GPTMARKET_API_KEY: 'm' })).toMatchObject({
      transcription: 'assemblyai',
      llm: 'openai',
      pinterest: 'gptmarket',
    });
  });
});

describe('ALLOW_OFFLINE_PROVIDERS', () => {
  const parse = (v: string | undefined) => z.object({ A: offlineAllowance() }).safeParse({ A: v });
  it('accepts nothing, everything, or a list of capabilities', () => {
    expect(parse(undefined)).toMatchObject({ success: true, data: { A: [] } });
    expect(parse('false')).toMatchObject({ success: true, data: { A: [] } });
    expect(parse('true')).toMatchObject({ success: true, data: { A: CAPABILITY_NAMES } });
    expect(parse(' pinterest , speech ')).toMatchObject({ success: true, data: { A: ['pinterest', 'speech'] } });
  });
  it('refuses unknown names, naming the valid ones', () => {
    const res = parse('pinterest,video');
    expect(res.success).toBe(false);
    expect(res.error!.issues[0]!.message).toMatch(/unknown "video"/);
    expect(res.error!.issues[0]!.message).toContain('image_video, prompts, llm, pinterest, speech, transcription');
  });
});

describe('offlineRefusal', () => {
  it('names each offline capability with the variables that would serve it', () => {
    const message = offlineRefusal(plan({ REPLICATE_API_KEY: 'r-secret', OPENAI_API_KEY: 'o-secret' }), [])!;
    expect(message).toContain('pinterest (set GPTMARKET_API_KEY)');
    expect(message).toContain('speech (set ELEVENLABS_API_KEY or CARTESIA_API_KEY)');
    expect(message).toContain('ALLOW_OFFLINE_PROVIDERS=pinterest,speech');
    expect(message).not.toMatch(/image_video|prompts|llm|transcription|secret/);
  });
  it('is null when every offline capability is allowed', () => {
    const p = plan({ REPLICATE_API_KEY: 'r', OPENAI_API_KEY: 'o' });
    expect(offlineRefusal(p, ['pinterest', 'speech'])).toBeNull();
    expect(offlineRefusal(p, ['pinterest'])).toMatch(/^no real provider for speech /);
    expect(offlineRefusal(plan({}), CAPABILITY_NAMES)).toBeNull();
  });
});

describe('the worker identity report', () => {
  it('round-trips the plan and carries no key', () => {
    const p = plan({ REPLICATE_API_KEY: 'r-secret', GEMINI_API_KEY: 'g-secret', OPENAI_API_KEY: 'o-secret' });
    const identity = workerIdentity('12@host-1', p);
    expect(identity).toMatch(/^12@host-1 providers=/);
    expect(identity).not.toContain('secret');
    expect(planFromIdentity(identity)).toEqual(p);
  });
  it('reads nothing from an identity without a report, and ignores what it does not know', () => {
    expect(planFromIdentity('7@media-host')).toBeNull();
    expect(planFromIdentity('1@h providers=pinterest:gptmarket,teleport:acme,speech:<b>')).toEqual({ pinterest: 'gptmarket' });
  });
});
