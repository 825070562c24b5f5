import { describe, expect, it } from 'vitest';
import { AppError, ErrorCode, errors } from './errors.js';
import { toErrorAnswer } from './error-envelope.js';

describe('toErrorAnswer', () => {
  it('rounds Retry-After up to whole seconds, never below 1', () => {
    const busy = (retryAfter: number) => new AppError(ErrorCode.TooManyRequests, { zh: '忙', en: 'busy' }, { retryAfter });
    expect(toErrorAnswer(busy(2.2), 'en').headers['retry-after']).toBe('3');
    expect(toErrorAnswer(busy(0.2), 'en').headers['retry-after']).toBe('1');
    expect(toErrorAnswer(busy(0), 'en').headers['retry-after']).toBe('1');
    expect(toErrorAnswer(busy(5), 'en').headers['retry-after']).toBe('5');
    expect(toErrorAnswer(errors.serviceNotFound('svc-x'), 'en').headers['retry-after']).toBeUndefined();
  });

  it('words the envelope and its field errors in the request language', () => {
    const err = errors.invalidInput([{ field: 'replicas', message: { zh: '太多', en: 'too many' } }]);
    expect(toErrorAnswer(err, 'zh')).toEqual({
      status: 400,
      headers: { 'content-language': 'zh', vary: 'Accept-Language' },
      body: { code: 40000, message: '请求参数无效: replicas', data: { errors: [{ field: 'replicas', message: '太多' }] } },
    });
    expect(toErrorAnswer(err, 'en').body).toEqual({ code: 40000, message: 'Invalid input: replicas', data: { errors: [{ field: 'replicas', message: 'too many' }] } });
  });

  it('challenges a 401 with WWW-Authenticate: Bearer and leaves data out when no field is named', () => {
    const answer = toErrorAnswer(errors.unauthenticated(), 'en');
    expect(answer.status).toBe(401);
    expect(answer.headers['www-authenticate']).toBe('Bearer');
    expect(answer.body).toEqual({ code: 40100, message: 'Missing, invalid or expired access token' });
  });
});
