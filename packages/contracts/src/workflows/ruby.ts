import { z } from 'zod';
import { AspectRatio, BaseGenerationRequest, WorkflowCredential, boundedText, label, type StepDefinition } from '../common.js';
import { getModel, modelIdOf, modelParamsField, type ModelRequest } from '../models.js';
import { ProviderUsage } from '../pricing.js';

export const RUBY_WORKFLOW = 'RubyWorkflow';

/** Suggested values (the Python `Literal | str` unions); any other short label is accepted, as before. */
export const RUBY_SUGGESTIONS = {
  emotion: ['shocked', 'scared', 'surprised', 'worried', 'crying', 'excited', 'confused', 'disgusted', 'amazed'],
  gender: ['female', 'male'],
  age_range: ['teen', 'early_20s', 'mid_20s', 'early_30s', 'mid_30s', 'early_40s', 'mid_40s', 'mature'],
  ethnicity: ['caucasian', 'black', 'asian', 'latino', 'middle_eastern', 'south_asian', 'southeast_asian', 'mixed'],
  hair_color: [
    'black',
    'brown',
    'blonde',
    'red',
    'auburn',
    'platinum',
    'gray',
    'white',
    'pink',
    'blue',
    'purple',
    'green',
    'ombre',
    'highlights',
  ],
  style: ['coquette', 'clean_girl', 'dark_academia', 'cottagecore', 'streetwear', 'minimalist', 'y2k', 'soft_girl', 'grunge', 'preppy'],
  background: [
    'bedroom',
    'living_room',
    'bathroom',
    'kitchen',
    'office',
    'cafe',
    'restaurant',
    'gym',
    'park',
    'beach',
    'city_street',
    'rooftop',
    'car',
    'mall',
    'club',
    'studio',
  ],
  clothing: [
    'casual',
    'streetwear',
    'formal',
    'business',
    'athletic',
    'swimwear',
    'sleepwear',
    'dress',
    'uniform',
    'vintage',
    'bohemian',
    'minimalist',
  ],
} as const;

export const TEXT_OVERLAY_MAX = 300;
export const ADDITIONAL_PROMPT_MAX = 2000;

/** What a caller asks for (the HTTP API's `input`). */
export const RubyRequest = BaseGenerationRequest.extend({
  additional_prompt: boundedText(ADDITIONAL_PROMPT_MAX).nullable().default(null),
  emotion: label().default('shocked'),
  text_overlay: boundedText(TEXT_OVERLAY_MAX).nullable().default(null),
  gender: label(32).default('female'),
  age_range: label().default('early_20s'),
  ethnicity: label().default('caucasian'),
  hair_color: label().default('brown'),
  style: label().default('coquette'),
  background: label().default('bedroom'),
  clothing: label().default('casual'),
  aspect_ratio: AspectRatio.default('9:16'),
  video_duration: z.number().int().min(5).max(10).default(5),
  slowed_video: z.boolean().default(true),
  image_model: modelIdOf('image').default('nano-banana'),
  video_model: modelIdOf('video').default('kling-v2.6'),
  // The workflow sets the prompts and the start image (rubyImageRequest, rubyVideoRequest).
  image_model_params: modelParamsField({ category: 'image', modelField: 'image_model', setByWorkflow: ['prompt'] }),
  video_model_params: modelParamsField({ category: 'video', modelField: 'video_model', setByWorkflow: ['prompt', 'image', 'start_image'] }),
}).superRefine((input, ctx) => {
  const video = getModel(input.video_model);
  if (video?.durations && !video.durations.includes(input.video_duration)) {
    ctx.addIssue({
      code: 'custom',
      path: ['video_duration'],
      message: `${video.id} accepts durations ${video.durations.join(' or ')} seconds`,
    });
  }
  for (const [field, id] of [
    ['image_model', input.image_model],
    ['video_model', input.video_model],
  ] as const) {
    const model = getModel(id);
    if (model && !model.aspectRatios.includes(input.aspect_ratio)) {
      ctx.addIssue({
        code: 'custom',
        path: ['aspect_ratio'],
        message: `${model.id} (${field}) supports aspect ratios ${model.aspectRatios.join(', ')}`,
      });
    }
  }
});
/** What the workflow receives: the request and its credential. */
export const RubyInput = RubyRequest.extend(WorkflowCredential);
export type RubyInput = z.infer<typeof RubyInput>;

export const RubyOutput = z.object({
  face_image_url: z.string(),
  raw_video_url: z.string(),
  final_video_url: z.string(),
  enhanced_image_prompt: z.string(),
  enhanced_video_prompt: z.string(),
  image_model: z.string(),
  video_model: z.string(),
  /** Additions (ignored by Python-era clients): which provider made each artefact, and warnings. */
  providers: z.object({ prompts: z.string(), image: z.string(), video: z.string() }),
  warnings: z.array(z.string()),
  /** A JPEG frame and a short animated GIF of the final video. */
  final_video_poster_url: z.string().optional(),
  final_video_preview_url: z.string().optional(),
  /** What each provider call used, by step (tokens, compute seconds): the gateway prices it (`settleCost`). */
  usage: z.array(ProviderUsage).optional(),
});
export type RubyOutput = z.infer<typeof RubyOutput>;

/** Step ids, names and start percentages exactly as the Python system reports them. */
export const RUBY_STEPS = {
  prompts: { id: 'prompts', name: 'Generate Prompts', pct: 0 },
  face: { id: 'face', name: 'Generate Face', pct: 10 },
  video: { id: 'video', name: 'Generate Video', pct: 30 },
  slowmo: { id: 'slowmo', name: 'Apply Slow Motion', pct: 60 },
  text: { id: 'text', name: 'Add Text', pct: 80 },
  rewrite: { id: 'rewrite', name: 'Rewrite Media', pct: 85 },
  upload: { id: 'upload', name: 'Upload', pct: 90 },
} as const satisfies Record<string, StepDefinition>;

/** Ruby's slow-motion speed factor and caption style (the Python system's values). */
export const RUBY_SLOWMO_SPEED = 0.7;
export const RUBY_CAPTION_STYLE = {
  position: 'center',
  font: 'IMPACT',
  font_color: 'white',
  font_scale_factor: 28,
  border_width: 4,
  border_color: 'black',
  max_chars_per_line: 24,
  line_spacing: 12,
} as const;

/** The face image request. Caller params tune the model; they cannot replace the generated prompt. */
export const rubyImageRequest = (input: RubyInput, prompt: string): ModelRequest => ({
  model: input.image_model,
  category: 'image',
  params: { aspect_ratio: input.aspect_ratio, ...input.image_model_params, prompt },
  params_field: 'image_model_params',
});

/** The animation request. Caller params cannot replace the prompt or the start image. */
export const rubyVideoRequest = (input: RubyInput, prompt: string, imageUrl: string): ModelRequest => ({
  model: input.video_model,
  category: 'video',
  params: {
    duration: input.video_duration,
    aspect_ratio: input.aspect_ratio,
    generate_audio: false,
    ...input.video_model_params,
    prompt,
    image: imageUrl,
  },
  params_field: 'video_model_params',
});

/** Both requests with placeholder prompt and image, for validating a Ruby input before it starts. */
export const rubyModelRequests = (input: RubyInput): ModelRequest[] => [
  rubyImageRequest(input, 'placeholder prompt'),
  rubyVideoRequest(input, 'placeholder prompt', 'https://placeholder.invalid/face.png'),
];
