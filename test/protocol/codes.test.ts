import { describe, it, expect } from "vitest";
import { classifyErrorCode, isTransientCode, type ErrorClass } from "../../src/protocol/codes.js";

/**
 * The docs/protocol.md §5.2 table of codes, bucket by bucket, with the retryable column
 * translated to our classes. Wildcard rows (`invalid*`, `missing*`, ...) are represented by the
 * table's own examples plus a few more of the same shape.
 */
const TABLE: Record<string, { expected: ErrorClass; codes: string[] }> = {
  auth: {
    expected: "permanent",
    codes: [
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
    ],
  },
  quota: {
    expected: "permanent",
    codes: [
      "insufficientCredits",
      "providerInsufficientCredits",
      "thirdPartyInsufficientCredits",
      "quotaExceeded",
      "paymentRequired",
      "lowBalance",
      "monthlyQuotaReached",
    ],
  },
  validation: {
    expected: "permanent",
    codes: [
      "invalidPositivePrompt",
      "invalidPositivePromptLength",
      "invalidWidth",
      "missingPositivePrompt",
      "missingModel",
      "conflictTaskUUID",
      "duplicateTaskUUID",
      "unsupportedParameter",
      "unsupportedTaskType",
      "valueTooLarge",
      "arrayTooSmall",
      "maxLengthExceeded",
      "unknownParameter",
      "incompatibleParameters",
      "modelAlreadyExists",
      "validationFailed",
    ],
  },
  safety: {
    expected: "permanent",
    codes: [
      "contentPolicyViolation",
      "providerContentPolicyViolation",
      "nsfwContentDetected",
      "sensitiveContentDetected",
      "unsafeContentDetected",
      "promptBlocked",
      "imageBlocked",
      "moderationFailed",
    ],
  },
  notFound: {
    expected: "permanent",
    codes: [
      "modelNotFound",
      "taskNotFound",
      "mediaNotFound",
      "taskExpired",
      "mediaExpired",
      "taskCancelled",
      "taskFailedOrNotFound",
      "unknownModel",
    ],
  },
  rateLimit: {
    expected: "transient",
    codes: ["rateLimitExceeded", "inferenceRateLimitExceeded", "providerRateLimitExceeded", "inferenceRateLimitRequestTooLarge"],
  },
  timeout: {
    expected: "transient",
    codes: ["timeout", "providerTimeout", "providerGatewayTimeout", "webhookTimeout", "queueTimeout"],
  },
  provider: {
    expected: "transient",
    codes: [
      "providerError",
      "providerUnavailable",
      "providerBadGateway",
      "providerInternalError",
      "providerUnknownError",
      "providerAuthenticationFailed",
      "inferenceError",
      "processingFailed",
      "taskFailed",
      "downloadFailed",
      "uploadFailed",
      "noAvailableServer",
      "modelUnavailable",
      "modelDisabled",
      "modelNotReady",
    ],
  },
  serverError: {
    expected: "transient",
    codes: [
      "internalServerError",
      "serviceUnavailable",
      "serverUnavailable",
      "standardError",
      "unknownError",
      "undefinedError",
      "defaultError",
      "unrecognizedResponse",
    ],
  },
};

describe("protocol codes - classifyErrorCode", () => {
  for (const [bucket, { expected, codes }] of Object.entries(TABLE)) {
    it(`protocol - every ${bucket} code of the known-codes table is ${expected}`, () => {
      const wrong = codes.filter((c) => classifyErrorCode(c) !== expected);
      expect(wrong).toEqual([]);
    });
  }

  it("protocol - timeoutProvider (the docs' own transient example) is transient, unlike rw-ts", () => {
    expect(classifyErrorCode("timeoutProvider")).toBe("transient");
  });

  it("protocol - providerRateLimitExceeded is transient", () => {
    expect(classifyErrorCode("providerRateLimitExceeded")).toBe("transient");
  });

  it("protocol - an unseen provider* code is transient (docs/protocol.md §5.2)", () => {
    expect(classifyErrorCode("providerSomethingNew")).toBe("transient");
  });

  it("protocol - permanent patterns win over transient ones", () => {
    // `invalid*` beats "timeout"; "Credits" beats the `provider` prefix; safety beats the `provider` prefix.
    expect(classifyErrorCode("invalidTimeout")).toBe("permanent");
    expect(classifyErrorCode("providerInsufficientCredits")).toBe("permanent");
    expect(classifyErrorCode("providerContentPolicyViolation")).toBe("permanent");
    expect(classifyErrorCode("missingRateLimitHeader")).toBe("permanent");
  });

  it("protocol - unknown codes are permanent so nothing retries forever on them", () => {
    for (const code of ["somethingNew", "", "error", "legacyError", "protocolError", "INVALID", "invalid"]) {
      expect(classifyErrorCode(code), code).toBe("permanent");
    }
  });

  it("protocol - prefix rules need a camelCase boundary", () => {
    // "maxwell..." and "invalidated..." are not `max*` / `invalid*` validation codes, so the timeout rule decides.
    expect(classifyErrorCode("maxwellTimeout")).toBe("transient");
    expect(classifyErrorCode("invalidatedCacheTimeout")).toBe("transient");
  });

  it("protocol - isTransientCode agrees with classifyErrorCode", () => {
    const all = Object.values(TABLE)
      .flatMap((b) => b.codes)
      .concat(["timeoutProvider", "whatever"]);
    for (const code of all) expect(isTransientCode(code), code).toBe(classifyErrorCode(code) === "transient");
    expect(isTransientCode("timeoutProvider")).toBe(true);
    expect(isTransientCode("invalidApiKey")).toBe(false);
  });
});
