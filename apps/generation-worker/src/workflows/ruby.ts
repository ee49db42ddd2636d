import { condition, defineSignal, proxyActivities, setHandler } from '@temporalio/workflow';
import {
  RENDER_PROGRESS_SIGNAL,
  REWRITE_IGNORED_WARNING,
  RUBY_CAPTION_STYLE,
  RUBY_SLOWMO_SPEED,
  RUBY_STEPS,
  RubyInput,
  rubyImageRequest,
  rubyModelRequests,
  rubyVideoRequest,
  type CallUsage,
  type GenerationActivities,
  type ProviderUsage,
  type RenderProgress,
  type RenderResult,
  type RubyOutput,
} from '@gptmarket/contracts';
import { fastBeating, paid as paidOptions } from './options.js';
import { GenerationRun } from './run.js';

const prompts = proxyActivities<GenerationActivities>(fastBeating('2m'));
const paidOpts = paidOptions('15m');
const paid = proxyActivities<GenerationActivities>(paidOpts);
const renderProgress = defineSignal<[RenderProgress]>(RENDER_PROGRESS_SIGNAL);

/** With slow motion and a caption in one render, the step moves from `slowmo` to `text` when the encode is this far. */
const TEXT_STEP_AT_PCT = 50;

/** What a step's provider call used (results from workers that did not report it: the provider that answered). */
const stepUsage = (step: string, result: { provider: string; model?: string; usage?: CallUsage }): ProviderUsage => ({
  step,
  ...(result.usage ?? { provider: result.provider, model: result.model ?? result.provider }),
});

/** `RubyWorkflow`: an AI reaction video — prompts, face, animation, slow motion and caption in one render. */
export async function RubyWorkflow(rawInput: unknown): Promise<RubyOutput> {
  const run = new GenerationRun({ checksModels: true });
  return run.execute(async () => {
    const input = await run.start(RubyInput, rawInput);
    const media = run.media();
    const images = run.imageVideo(paid, paidOpts);
    // Both models' params are checked before the first paid call (the gateway checks them too); keys a model
    // does not know are dropped with a warning, as the Python system dropped them (silently).
    const modelWarnings = await run.validateModels(rubyModelRequests(input));
    const warnings = [...(input.rewrite_enabled ? [REWRITE_IGNORED_WARNING] : []), ...modelWarnings];
    let renderedPct = 0;
    setHandler(renderProgress, (p) => {
      if (typeof p?.pct === 'number') renderedPct = Math.max(renderedPct, p.pct);
    });

    // The two prompt calls are independent: run them in parallel.
    const [person, reaction] = await run.step(RUBY_STEPS.prompts, () =>
      Promise.all([
        prompts.generatePersonPrompt({
          gender: input.gender,
          age_range: input.age_range,
          emotion: input.emotion,
          style: input.style,
          background: input.background,
          hair_color: input.hair_color,
          ethnicity: input.ethnicity,
          clothing: input.clothing,
          context: input.additional_prompt,
        }),
        prompts.generateReactionPrompt({ emotion: input.emotion, context: input.additional_prompt, duration: input.video_duration }),
      ]),
    );

    const { model: imageModel, params: imageParams } = rubyImageRequest(input, person.text_prompt);
    const face = await run.step(RUBY_STEPS.face, () =>
      images.generateImage({ model: imageModel, params: imageParams, folder: 'ruby/faces' }),
    );

    const { model: videoModel, params: videoParams } = rubyVideoRequest(input, reaction.video_prompt, face.url);
    const raw = await run.step(RUBY_STEPS.video, () =>
      images.generateVideo({ model: videoModel, params: videoParams, folder: 'ruby/raw' }),
    );

    // Every final video goes through the media engine once: slow motion and the caption in one filter graph and
    // one encode (the Python system did two), yuv420p + faststart, AI-provenance metadata, poster and preview.
    // With neither slow motion nor a caption it is a plain re-encode, done as part of the upload step. The
    // model's sound (Kling/Seedance `generate_audio`) is kept, slowed with the video at the same pitch; a
    // silent clip stays silent.
    const caption = input.text_overlay?.trim() ? input.text_overlay : null;
    const render = (signalProgressAt: number[] = []) =>
      media.renderVideo({
        input_url: raw.url,
        speed: input.slowed_video ? RUBY_SLOWMO_SPEED : 1,
        preserve_audio: true,
        caption: caption ? { text: caption, ...RUBY_CAPTION_STYLE } : null,
        signal_progress_at: signalProgressAt,
        output: { folder: 'ruby/videos' },
      });
    const finalize = async (rendered: RenderResult): Promise<RubyOutput> => {
      const output: RubyOutput = {
        face_image_url: face.url,
        raw_video_url: raw.url,
        final_video_url: rendered.url,
        enhanced_image_prompt: person.text_prompt,
        enhanced_video_prompt: reaction.video_prompt,
        image_model: input.image_model,
        video_model: input.video_model,
        providers: { prompts: person.provider, image: face.provider, video: raw.provider },
        warnings,
        ...(rendered.poster_url ? { final_video_poster_url: rendered.poster_url } : {}),
        ...(rendered.preview_url ? { final_video_preview_url: rendered.preview_url } : {}),
        usage: [
          stepUsage(RUBY_STEPS.prompts.id, person),
          stepUsage(RUBY_STEPS.prompts.id, reaction),
          stepUsage(RUBY_STEPS.face.id, face),
          stepUsage(RUBY_STEPS.video.id, raw),
        ],
      };
      // A provenance record beside the media: what made it, from which prompts, labelled AI-generated.
      await run.saveManifest('ruby', output, { aiGenerated: true });
      return output;
    };

    let output: RubyOutput;
    if (input.slowed_video && caption) {
      // One render does both, but the Python system's clients expect `slowmo` (60) then `text` (80): the step
      // moves on when the render reports it is halfway through the encode (or done, whichever comes first).
      const rendering = render([TEXT_STEP_AT_PCT]);
      await run.step(RUBY_STEPS.slowmo, () => Promise.race([rendering, condition(() => renderedPct >= TEXT_STEP_AT_PCT)]));
      const rendered = await run.step(RUBY_STEPS.text, () => rendering);
      output = await run.step(RUBY_STEPS.upload, () => finalize(rendered));
    } else if (input.slowed_video || caption) {
      const rendered = await run.step(input.slowed_video ? RUBY_STEPS.slowmo : RUBY_STEPS.text, () => render());
      output = await run.step(RUBY_STEPS.upload, () => finalize(rendered));
    } else {
      output = await run.step(RUBY_STEPS.upload, async () => finalize(await render()));
    }

    run.complete();
    return output;
  });
}
