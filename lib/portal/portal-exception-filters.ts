import type { ExternalContextCreator } from '@nestjs/core';

/** What Nest's exceptions handler selects filters from: this one catches everything and passes it on. */
const PASS_ON = {
  exceptionMetatypes: [] as unknown[],
  func: (exception: unknown): never => {
    throw exception;
  },
};

interface ExceptionsHandler {
  filters?: unknown[];
  setCustomFilters?(filters: unknown[]): void;
}

interface ExceptionFilterContext {
  create(...args: unknown[]): ExceptionsHandler;
}

/**
 * The context creator for portal handlers: Nest's own (guards, interceptors, pipes, and the exception filters
 * declared with `@UseFilters` or globally, in Nest's order), except that an exception no filter handles is passed
 * on as it is instead of going through Nest's default external filter, which logs a stack trace per exception
 * ("ExceptionsHandler"). The portal logs handler failures itself, a few per handler per window, so one client
 * whose every frame makes a handler throw cannot flood the logs. If Nest's internals are not as expected, Nest's
 * creator is returned unchanged (and its default logging stays).
 */
export function portalContextCreator(creator: ExternalContextCreator): ExternalContextCreator {
  const filters = (creator as unknown as { filtersContextCreator?: ExceptionFilterContext }).filtersContextCreator;
  if (typeof filters?.create !== 'function') return creator;
  const portalFilters: ExceptionFilterContext = {
    create: (...args) => {
      const handler = filters.create(...args);
      if (typeof handler?.setCustomFilters === 'function') handler.setCustomFilters([...(handler.filters ?? []), PASS_ON]);
      return handler;
    },
  };
  return Object.create(creator, { filtersContextCreator: { value: portalFilters } }) as ExternalContextCreator;
}
