export {
  isAddressPermitted,
  isHostAllowed,
  isLinkLocalAddress,
  isPublicAddress,
  parseHostLiteral,
  type OutboundPolicy,
} from './address-policy.js';
export {
  downloadToFile,
  fetchJson,
  OutboundRequestError,
  safeRequest,
  type DownloadOptions,
  type DownloadResult,
  type FetchJsonOptions,
  type HttpMethod,
  type LookupImpl,
  type OutboundErrorCode,
  type SafeRequestOptions,
  type SafeResponse,
} from './safe-fetch.js';
