import type { PersonPromptRequest, PersonPromptResult, ReactionPromptRequest, ReactionPromptResult } from '@gptmarket/contracts';

/**
 * The offline LLM: deterministic prompts built from the request, in the same shapes the real models are
 * asked for. Every input field reaches the result (the Python template dropped hair_color, ethnicity and
 * clothing).
 */
const humanize = (s: string) => s.replace(/_/g, ' ');

const EXPRESSIONS: Record<string, string> = {
  shocked: 'eyes wide open, eyebrows raised high, jaw dropped, frozen in disbelief',
  scared: 'eyes wide, brows pulled together, lips tense, shoulders drawn up',
  surprised: 'raised eyebrows, widened eyes, lips slightly parted',
  worried: 'furrowed brow, lips pressed together, eyes glancing sideways',
  crying: 'glassy red eyes, tears on the cheeks, trembling lower lip',
  excited: 'bright wide smile, eyes sparkling, eyebrows lifted',
  confused: 'one eyebrow raised, head tilted, lips pursed',
  disgusted: 'nose wrinkled, upper lip raised, eyes narrowed',
  amazed: 'mouth open in awe, eyes wide and shining',
};

const MOVEMENTS: Record<string, string[]> = {
  shocked: [
    'Eyes snap wide open',
    'Eyebrows shoot up',
    'Head jerks back slightly',
    'Free hand rises to cover the mouth',
    'Holds perfectly still in disbelief',
    'Slow blink while processing',
  ],
  scared: [
    'Eyes widen and dart to the side',
    'Shoulders pull up toward the ears',
    'Phone trembles slightly',
    'Leans away from the camera',
    'Quick shallow breaths visible in the chest',
  ],
  surprised: ['Eyebrows lift quickly', 'Eyes widen', 'Head tilts back a little', 'Small step back from the phone', 'Blinks twice'],
  worried: [
    'Brow furrows slowly',
    'Bites the lower lip with mouth closed',
    'Glances away then back to the lens',
    'Fingers tap the side of the phone',
    'Slight head shake',
  ],
  crying: [
    'Eyes well up with tears',
    'A tear rolls down one cheek',
    'Chin trembles',
    'Wipes an eye with the back of the hand',
    'Looks down then back at the lens',
  ],
  excited: [
    'Eyes light up',
    'Shoulders bounce',
    'Free hand waves near the face',
    'Leans closer to the camera',
    'Nods quickly with a closed-mouth grin',
  ],
  confused: ['Head tilts to one side', 'One eyebrow rises', 'Squints at the screen', 'Slowly shakes the head', 'Scratches the temple'],
  disgusted: [
    'Nose wrinkles',
    'Pulls the head back',
    'Upper lip curls with mouth closed',
    'Turns the face slightly away',
    'Shakes the head once',
  ],
  amazed: ['Eyes widen slowly', 'Eyebrows lift', 'Hand moves to the chest', 'Leans toward the phone', 'Slow nod of disbelief'],
};
const DEFAULT_MOVEMENTS = ['Eyes widen', 'Eyebrows lift', 'Head tilts slightly', 'Leans toward the camera', 'Holds still for a beat'];

export function localPersonPrompt(req: PersonPromptRequest): PersonPromptResult {
  const emotion = req.emotion.toLowerCase();
  const json_prompt = {
    subject: {
      type: 'candid selfie of a real person',
      gender: humanize(req.gender),
      ethnicity: humanize(req.ethnicity),
      age: humanize(req.age_range),
      skin_texture: 'natural skin with visible pores, no retouching',
      expression: EXPRESSIONS[emotion] ?? `${humanize(req.emotion)} expression`,
      emotion: humanize(req.emotion),
      hair: { color: humanize(req.hair_color), style: `styled to fit a ${humanize(req.style)} look` },
      pose: 'holding an iPhone at arm length, looking into the lens',
    },
    apparel: { clothing: humanize(req.clothing), style: humanize(req.style) },
    phone: { model: 'iPhone_15_Pro_Max', camera: 'front camera' },
    environment: { setting: humanize(req.background), lighting: 'natural indoor light' },
    image_rendering: { look: 'natural phone snapshot', beautify: false, grain: 'subtle sensor noise' },
    ...(req.context ? { context: req.context } : {}),
  };
  return { json_prompt, text_prompt: JSON.stringify(json_prompt), provider: 'local' };
}

export function localReactionPrompt(req: ReactionPromptRequest): ReactionPromptResult {
  const emotion = req.emotion.toLowerCase();
  const pool = MOVEMENTS[emotion] ?? DEFAULT_MOVEMENTS;
  // Longer clips get more beats: 5 movements at 5 s, up to 7 at 10 s.
  const count = Math.min(pool.length, 5 + Math.floor((req.duration - 5) / 2.5));
  const movements = pool.slice(0, Math.max(5, count));
  const context = req.context?.trim() || 'something surprising';
  const video_prompt =
    `${movements.join('. ')}. Slow, cinematic ${humanize(req.emotion)} reaction to ${context}, ` +
    `handheld selfie framing over ${req.duration} seconds. No speech, no text, mouth stays closed.`;
  return { movements, video_prompt, provider: 'local' };
}
