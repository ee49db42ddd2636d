// The one workflows entry of the generation worker (bundled for the Temporal sandbox).
export { RubyWorkflow } from './ruby.js';
export { HelloWorldWorkflow } from './hello-world.js';
export { WebhookDeliveryWorkflow } from './webhook-delivery.js';
export { SlideshowsPinterestWorkflow } from './slideshows-pinterest.js';
export { VoiceoverWorkflow } from './voiceover.js';
export { TranscriptSummaryWorkflow } from './transcript-summary.js';
