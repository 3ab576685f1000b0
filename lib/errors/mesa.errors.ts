/**
 * Base class of every error nestjs-mesa throws or rejects with, so callers can tell them apart
 * with `instanceof MesaError`. Messages never contain a Redis password.
 */
export class MesaError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/**
 * Thrown at bootstrap when `MesaModule` options are invalid (wrong type, unknown URL scheme,
 * no connection given). The message names the option and the fix.
 */
export class MesaConfigurationError extends MesaError {}

/**
 * Thrown at bootstrap when Redis cannot be reached within `connectTimeout`. The message says where
 * the module tried (host and port, never the password).
 */
export class MesaConnectionError extends MesaError {}

/**
 * Rejected by `dispatch()` (and thrown by `@Dispatch`) when the message or the recipients are invalid.
 * Nothing was published or stored.
 */
export class MesaValidationError extends MesaError {}

/**
 * Rejected by `dispatch()` when Redis did not take the publish (or the sync writes): the connection
 * failed, a command errored, or the module was shut down. Its message ends "was not sent" or "may have been
 * published", and {@link mayHaveBeenPublished} says the same for code.
 */
export class MesaDispatchError extends MesaError {
  /**
   * `false`: nothing of the message reached the wire, and it never will (safe to send again). `true`: Redis may
   * have run it (the connection dropped or Redis did not answer in time): sending it again may deliver it twice,
   * unless it carries an idempotency key.
   */
  readonly mayHaveBeenPublished: boolean;

  constructor(message: string, options?: { cause?: unknown; mayHaveBeenPublished?: boolean }) {
    super(message, options);
    this.mayHaveBeenPublished =
      options?.mayHaveBeenPublished ?? (options?.cause as MesaDispatchError | undefined)?.mayHaveBeenPublished ?? false;
  }
}

/**
 * Rejected by `MesaPresence` and `MesaBacklog` when Redis did not answer (not connected, timed out,
 * a command failed) or holds something Mesa servers would not write there (a key of the wrong type,
 * a stored backlog that is not a JSON array). The message names the key and the fix.
 */
export class MesaRedisError extends MesaError {}
