import { describe, expect, it } from 'vitest';
import { predictionsOfAnswer } from './prediction.js';

describe('predictionsOfAnswer', () => {
  it('reads the seed envelope and a bare {predictions}', () => {
    const predictions = [{ class: 'red', confidence: 0.9 }, { class: 'blue', confidence: 0.1 }];
    expect(predictionsOfAnswer({ code: 0, message: 'success', data: { predictions } })).toEqual(predictions);
    expect(predictionsOfAnswer({ predictions })).toEqual(predictions);
    expect(predictionsOfAnswer({ predictions: [{ class: 'red', confidence: 1, extra: true }] })).toEqual([{ class: 'red', confidence: 1 }]);
  });

  it.each([
    ['not an object', 'red'],
    ['null', null],
    ['no predictions', { code: 0, data: {} }],
    ['predictions not a list', { predictions: { class: 'red' } }],
    ['a class that is not a string', { predictions: [{ class: 1, confidence: 0.5 }] }],
    ['a confidence that is not a number', { predictions: [{ class: 'red', confidence: '0.5' }] }],
    ['a confidence that is not finite', { predictions: [{ class: 'red', confidence: Number.NaN }] }],
  ])('null for %s', (_what, body) => {
    expect(predictionsOfAnswer(body)).toBeNull();
  });
});
