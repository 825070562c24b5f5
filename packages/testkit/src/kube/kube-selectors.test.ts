import { describe, expect, test } from 'vitest';
import { matchesLabels, parseFieldSelector, parseLabelSelector } from './kube-selectors.js';

describe('label selectors', () => {
  const labels = { app: 'web', tier: 'front', 'remotegpu.io/service-id': 'svc-1' };
  const cases: [string, boolean][] = [
    ['', true],
    ['app=web', true],
    ['app==web,tier=front', true],
    ['app!=web', false],
    ['app!=db', true],
    ['missing!=x', true],
    ['app in (db, web)', true],
    ['app notin (web)', false],
    ['remotegpu.io/service-id', true],
    ['!remotegpu.io/service-id', false],
    ['!missing', true],
    ['remotegpu.io/service-id=svc-1,app', true],
  ];
  test.each(cases)('%s → %s', (selector, expected) => {
    expect(matchesLabels(parseLabelSelector(selector), labels)).toBe(expected);
  });

  test('malformed selectors are 400 BadRequest', () => {
    for (const bad of ['app in web', 'app in (web', '=web', 'app notin', 'a b']) {
      expect(() => parseLabelSelector(bad), bad).toThrow(expect.objectContaining({ status: expect.objectContaining({ code: 400, reason: 'BadRequest' }) }));
    }
  });

  test('parsing stays linear on long hostile input', () => {
    const started = Date.now();
    expect(() => parseLabelSelector(`${'a'.repeat(50_000)} ${' '.repeat(50_000)}x`)).toThrow();
    expect(() => parseFieldSelector(`metadata.name${' '.repeat(100_000)}`)).toThrow();
    expect(Date.now() - started).toBeLessThan(500);
  });
});

describe('field selectors', () => {
  test('=, == and != with escapes', () => {
    expect(parseFieldSelector('metadata.name=a,status.phase!=Running,spec.nodeName==n1')).toEqual([
      { field: 'metadata.name', value: 'a', negated: false },
      { field: 'status.phase', value: 'Running', negated: true },
      { field: 'spec.nodeName', value: 'n1', negated: false },
    ]);
    expect(parseFieldSelector('metadata.name=a\\,b')).toEqual([{ field: 'metadata.name', value: 'a,b', negated: false }]);
    expect(() => parseFieldSelector('metadata.name')).toThrow();
  });
});
