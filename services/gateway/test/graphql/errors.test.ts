import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { errors } from '@remotegpu/core';
import { errorFormatter } from '../../src/graphql/errors.js';
import { GraphQLError } from '../../src/graphql/graphql-js.js';

/** formatError as Apollo calls it: the formatted error (stack trace option off) and the original. */
function format(error: GraphQLError, language: 'zh' | 'en' = 'zh') {
  const logged: unknown[] = [];
  const logger = pino({ level: 'error' }, { write: (line: string) => logged.push(JSON.parse(line)) });
  const formatted = errorFormatter({ language: () => language, logger })({ ...error.toJSON() }, error);
  return { formatted, logged };
}

describe('errorFormatter', () => {
  it('maps a resolver AppError to its localized message, numeric code, status and field errors', () => {
    const appError = errors.invalidInput([{ field: 'model_version', message: { zh: '为必填项', en: 'is required' } }]);
    const { formatted } = format(new GraphQLError(appError.message, { originalError: appError, path: ['createInferenceService'] }), 'en');
    expect(formatted).toEqual({
      message: 'Invalid input: model_version',
      path: ['createInferenceService'],
      extensions: { code: 40000, status: 400, fields: [{ field: 'model_version', message: 'is required' }] },
    });
  });

  it('replaces any other error with 50000 "Internal server error", keeping the details in the log only', () => {
    const secret = new Error('SQLITE_CORRUPT at /var/lib/rgpu/rgpu.db');
    const { formatted, logged } = format(new GraphQLError(secret.message, { originalError: secret, path: ['models'] }));
    expect(formatted).toEqual({ message: '服务器内部错误', path: ['models'], extensions: { code: 50000, status: 500 } });
    expect(JSON.stringify(formatted)).not.toMatch(/SQLITE|rgpu\.db|stack/);
    expect(JSON.stringify(logged)).toMatch(/SQLITE_CORRUPT/);
  });

  it('treats an AppError of code 50000 as internal too (its cause stays in the log)', () => {
    const internal = errors.internal(new Error('disk full'));
    const { formatted, logged } = format(new GraphQLError(internal.message, { originalError: internal }), 'en');
    expect(formatted).toEqual({ message: 'Internal server error', extensions: { code: 50000, status: 500 } });
    expect(JSON.stringify(logged)).toMatch(/disk full/);
  });

  it("maps Apollo's request refusals to 40000 with graphql-js's message", () => {
    const { formatted } = format(new GraphQLError('Cannot query field "x" on type "Query".', { extensions: { code: 'GRAPHQL_VALIDATION_FAILED' } }));
    expect(formatted).toEqual({ message: 'Cannot query field "x" on type "Query".', extensions: { code: 40000, status: 400 } });
  });
});
