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
  getForm,
  getFormRegistry,
  titleCase,
  type FieldDefinition,
  type FieldType,
  type FieldValidation,
  type FormDefinition,
  type FormFieldOptions,
  type SelectOption,
} from './forms.js';
export type * from './types.js';
