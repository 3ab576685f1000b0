import { MesaValidationError } from '../errors/mesa.errors.js';

/**
 * Checks a message's JSON text against `maxPayloadBytes`. Its UTF-8 size lies between its length and three
 * times it, so it is measured only when that matters.
 * @throws MesaValidationError giving the size, the limit and the fix.
 */
export function checkPayloadSize(json: string, limit: number): void {
  if (json.length * 3 <= limit) return;
  const bytes = json.length > limit ? json.length : Buffer.byteLength(json);
  if (bytes > limit) {
    throw new MesaValidationError(
      `Message is ${bytes} bytes of JSON, over maxPayloadBytes (${limit}). Send a reference clients can fetch instead, or raise maxPayloadBytes.`,
    );
  }
}
