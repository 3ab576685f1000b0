import type { LoggerService } from '@nestjs/common';

/** A Nest logger that keeps every line, so tests can assert what was (and was not) logged. */
export class RecordingLogger implements LoggerService {
  readonly lines: Array<{ level: string; message: string; context?: string; at: number }> = [];

  log(message: unknown, context?: string) {
    this.record('log', message, context);
  }
  error(message: unknown, ...rest: unknown[]) {
    this.record('error', message, rest.at(-1) as string | undefined);
  }
  warn(message: unknown, context?: string) {
    this.record('warn', message, context);
  }
  debug(message: unknown, context?: string) {
    this.record('debug', message, context);
  }
  verbose(message: unknown, context?: string) {
    this.record('verbose', message, context);
  }

  /** Error lines whose message matches `pattern`. */
  errors(pattern: RegExp = /.*/): string[] {
    return this.lines.filter((line) => line.level === 'error' && pattern.test(line.message)).map((line) => line.message);
  }

  /** Everything logged, as one text (for "no secret appears anywhere" checks). */
  text(): string {
    return this.lines.map((line) => `${line.level} ${line.context ?? ''} ${line.message}`).join('\n');
  }

  private record(level: string, message: unknown, context?: string) {
    const text =
      message instanceof Error ? `${message.message}\n${message.stack}` : typeof message === 'string' ? message : JSON.stringify(message);
    this.lines.push({ level, message: text, context, at: Date.now() });
  }
}
