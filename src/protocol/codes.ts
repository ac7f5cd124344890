/**
 * Which Runware error codes are worth retrying (docs/protocol.md §5.2, the rw-ts buckets), with two
 * deliberate differences from rw-ts: `timeoutProvider` is transient (rw-ts misses it because its match
 * on "Timeout" is case-sensitive), and an unknown code is permanent, so we never loop on something we
 * do not understand.
 */

export type ErrorClass = "transient" | "permanent";

const PERMANENT_EXACT = new Set([
  "invalidApiKey",
  "missingApiKey",
  "authenticationFailed",
  "unauthorized",
  "forbidden",
  "permissionDenied",
  "insufficientPermissions",
  "tokenExpired",
  "accountSuspended",
  "organizationDisabled",
  "workspaceSuspended",
  "paymentRequired",
  "unknownParameter",
  "incompatibleParameters",
  "modelAlreadyExists",
  "validationFailed",
  // safety
  "contentPolicyViolation",
  "providerContentPolicyViolation",
  "nsfwContentDetected",
  "sensitiveContentDetected",
  "unsafeContentDetected",
  "promptBlocked",
  "imageBlocked",
  "moderationFailed",
  // not found
  "modelNotFound",
  "taskNotFound",
  "mediaNotFound",
  "taskExpired",
  "mediaExpired",
  "taskCancelled",
  "taskFailedOrNotFound",
  "unknownModel",
]);

/** Prefixes of validation codes: `invalidWidth`, `missingPositivePrompt`, `conflictTaskUUID`, ... */
const PERMANENT_PREFIX = /^(invalid|missing|conflict|duplicate|unsupported|value|array|max)[A-Z]/;
/** Anything about money is permanent: `insufficientCredits`, `providerInsufficientCredits`, `quotaExceeded`. */
const PERMANENT_MONEY = /credits|quota|balance/i;

const TRANSIENT_EXACT = new Set([
  "rateLimitExceeded",
  "inferenceRateLimitExceeded",
  "providerRateLimitExceeded",
  "inferenceRateLimitRequestTooLarge",
  "inferenceError",
  "processingFailed",
  "taskFailed",
  "downloadFailed",
  "uploadFailed",
  "noAvailableServer",
  "modelUnavailable",
  "modelDisabled",
  "modelNotReady",
  "internalServerError",
  "serviceUnavailable",
  "serverUnavailable",
  "standardError",
  "unknownError",
  "undefinedError",
  "defaultError",
  "unrecognizedResponse",
]);

/** `timeoutProvider`, `providerTimeout`, `timeout`, `webhookTimeout`, `providerError`, ... */
const TRANSIENT_PATTERN = /timeout|^provider|ratelimit/i;

export function classifyErrorCode(code: string): ErrorClass {
  if (PERMANENT_EXACT.has(code) || PERMANENT_PREFIX.test(code) || PERMANENT_MONEY.test(code)) return "permanent";
  if (TRANSIENT_EXACT.has(code) || TRANSIENT_PATTERN.test(code)) return "transient";
  return "permanent";
}

export function isTransientCode(code: string): boolean {
  return classifyErrorCode(code) === "transient";
}
