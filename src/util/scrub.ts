/**
 * A secret removed from text that came from outside (Runware's error messages, close reasons)
 * before it is stored, logged or shown: an upstream that echoes the API key must not make us leak
 * it. Keys shorter than 8 characters are not scrubbed (they would match ordinary words); Runware's
 * keys are far longer.
 */
export const REDACTED = "[redacted]";

export function scrub(text: string, secret: string): string {
  if (secret.length < 8 || !text.includes(secret)) return text;
  return text.replaceAll(secret, REDACTED);
}
