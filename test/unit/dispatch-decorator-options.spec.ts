import { Dispatch, MesaConfigurationError } from '../../lib/index.js';

/** Applies @Dispatch(type, options) to a fresh class's method, as TypeScript does at class definition. */
function decorate(type: unknown, options?: unknown) {
  class Subject {
    handle() {
      return Promise.resolve(1);
    }
  }
  const descriptor = Object.getOwnPropertyDescriptor(Subject.prototype, 'handle')!;
  (Dispatch as (t: unknown, o?: unknown) => MethodDecorator)(type, options)(Subject.prototype, 'handle', descriptor);
  Object.defineProperty(Subject.prototype, 'handle', descriptor);
  return Subject;
}

describe('@Dispatch refuses bad options when the class is defined, naming the method', () => {
  it.each<[string, unknown, unknown, RegExp]>([
    [
      'no recipients and no broadcast',
      'EVT',
      {},
      /Subject\.handle: say who receives the message: recipients: \(result, \.\.\.args\) => ids, or broadcast: true/,
    ],
    ['no options at all', 'EVT', undefined, /say who receives the message/],
    ['an empty type', '', { broadcast: true }, /the message type must be a non-empty string/],
    ['a non-string type', 42, { broadcast: true }, /the message type must be a non-empty string.*got number/],
    [
      'recipients that is not a function',
      'EVT',
      { recipients: ['a'] },
      /recipients must be a function of \(result, \.\.\.args\); got array/,
    ],
    ['excluding that is not a function', 'EVT', { recipients: () => [], excluding: ['a'] }, /excluding must be a function/],
    ['data that is not a function', 'EVT', { recipients: () => [], data: 'x' }, /data must be a function/],
    ['broadcast with recipients', 'EVT', { broadcast: true, recipients: () => [] }, /cannot be combined with recipients or excluding/],
    ['broadcast with excluding', 'EVT', { broadcast: true, excluding: () => [] }, /cannot be combined with recipients or excluding/],
    ['a non-boolean broadcast', 'EVT', { broadcast: 'yes' }, /broadcast must be true or false/],
    ['a non-boolean sync', 'EVT', { recipients: () => [], sync: 'no' }, /sync must be true or false/],
    ['an unknown onError', 'EVT', { recipients: () => [], onError: 'ignore' }, /onError must be 'throw' or 'log'/],
    ['an unknown option', 'EVT', { recipients: () => [], recipient: () => [] }, /unknown option 'recipient'/],
    ['options that are not an object', 'EVT', 'broadcast', /options must be an object/],
  ])('%s', (_name, type, options, message) => {
    expect(() => decorate(type, options)).toThrow(MesaConfigurationError);
    expect(() => decorate(type, options)).toThrow(message);
  });

  it('a decorated method called on an instance Nest did not create fails before running, saying why', () => {
    const Subject = decorate('EVT', { broadcast: true });
    expect(() => new Subject().handle()).toThrow(/no DispatcherService was injected\. Let Nest create the instance/);
  });
});
