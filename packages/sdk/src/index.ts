export {
  GptMarketClient,
  FINAL_STATUSES,
  isFinalStatus,
  isGenerationOfType,
  type FinalStatus,
  type GptMarketClientOptions,
  type RequestOptions,
  type CreateGenerationOptions,
  type SubscribeHandlers,
  type SubscribeOptions,
  type Subscription,
  type SubscriptionResult,
  type WaitForOptions,
} from './client.js';
export {
  GptMarketError,
  isGptMarketError,
  parseRetryAfter,
  CLIENT_ERROR_CODES,
  type ClientErrorCode,
  type GptMarketErrorCode,
  type GptMarketErrorInit,
  type ValidationIssue,
} from './errors.js';
export { SseParser, parseSse, type SseEvent, type SseParserCallbacks } from './sse.js';
export {
  EXCLUDED_FORM_FIELDS,
  FIELD_SUGGESTIONS,
  fieldLabel,
  formDefaults,
  formFieldsFromJsonSchema,
  formFieldsFromSchema,
  formFromGenerationType,
  getForm,
  getFormRegistry,
  titleCase,
  checkGenerationInput,
  formValuesToInput,
  type InputCheck,
  type FieldDefinition,
  type FieldType,
  type FieldValidation,
  type FormDefinition,
  type FormFieldOptions,
  type SelectOption,
} from './forms.js';
export type * from './types.js';
export {
  verifyWebhook,
  WebhookVerificationError,
  WEBHOOK_TOLERANCE_SECONDS,
  type VerifiedWebhook,
  type VerifyWebhookOptions,
  type WebhookErrorCode,
  type WebhookHeaders,
} from './webhooks.js';
export type { ContractIssue } from '@gptmarket/contracts';
