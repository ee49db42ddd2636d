import { proxyActivities } from '@temporalio/workflow';
import {
  REWRITE_IGNORED_WARNING,
  VOICEOVER_STEPS as STEPS,
  VoiceoverInput,
  type GenerationActivities,
  type VoiceoverOutput,
} from '@gptmarket/contracts';
import { paid } from './options.js';
import { GenerationRun } from './run.js';

const voice = proxyActivities<GenerationActivities>(paid('5m'));

/** `VoiceoverWorkflow`: text → speech (ElevenLabs, Cartesia or offline), optionally put under a video. */
export async function VoiceoverWorkflow(rawInput: unknown): Promise<VoiceoverOutput> {
  const run = new GenerationRun();
  return run.execute(async () => {
    const input = await run.start(VoiceoverInput, rawInput);
    const media = run.media('10m');
    const warnings = input.rewrite_enabled ? [REWRITE_IGNORED_WARNING] : [];

    const speech = await run.step(STEPS.synthesize, () =>
      voice.synthesizeSpeech({
        text: input.text,
        provider: input.provider,
        voice_id: input.voice_id,
        model_id: input.model_id,
        stability: input.stability,
        similarity_boost: input.similarity_boost,
        speed: input.speed,
        language: input.language,
        folder: 'voiceover/audio',
      }),
    );

    if (input.provider && speech.provider !== input.provider) {
      warnings.push(`${input.provider} is not configured on this server: the speech was made by ${speech.provider}`);
    }

    let videoUrl: string | null = null;
    let thumbnails: { video_poster_url?: string; video_preview_url?: string } = {};
    let duration = speech.duration_seconds;
    if (input.video_url) {
      const videoInput = input.video_url;
      // One render: the source video with the speech as (or mixed into) its audio track.
      const rendered = await run.step(STEPS.mix, () =>
        media.renderVideo({
          input_url: videoInput,
          speed: 1,
          preserve_audio: input.mix_mode === 'mix',
          caption: null,
          audio: { url: speech.url, mode: input.mix_mode, volume: input.voice_volume, duck: false, offset_seconds: 0 },
          output: { folder: 'voiceover/videos' },
        }),
      );
      videoUrl = rendered.url;
      thumbnails = {
        ...(rendered.poster_url ? { video_poster_url: rendered.poster_url } : {}),
        ...(rendered.preview_url ? { video_preview_url: rendered.preview_url } : {}),
      };
    }
    if (duration === null) {
      // Compressed speech (mp3): ask ffprobe on the media worker for the exact length.
      duration = (await media.probeMedia({ url: speech.url })).duration_seconds;
    }

    const output: VoiceoverOutput = {
      audio_url: speech.url,
      audio_content_type: speech.content_type,
      audio_duration_seconds: duration,
      video_url: videoUrl,
      ...thumbnails,
      provider: speech.provider,
      warnings,
    };
    // A provenance record beside the media: which provider spoke it, labelled AI-generated.
    await run.step(STEPS.upload, () => run.saveManifest('voiceover', output, { aiGenerated: true }));
    run.complete();
    return output;
  });
}
