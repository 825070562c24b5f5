import { describe, expect, test } from 'vitest';
import { applyPatch, patchTypeOf } from './kube-patch.js';

/** Strategic merge patch directives as kubectl apply sends them (k8s.io/apimachinery/pkg/util/strategicpatch). */
describe('strategic merge patch', () => {
  const spec = {
    containers: [
      { name: 'a', image: 'a:1', env: [{ name: 'X', value: '1' }, { name: 'Y', value: '2' }], ports: [{ containerPort: 80 }] },
      { name: 'b', image: 'b:1' },
    ],
    tolerations: [{ key: 't1' }],
    finalizers: ['one'],
  };
  const smp = (patch: unknown) => applyPatch('strategic', spec, patch) as typeof spec & Record<string, unknown>;

  test('lists of objects merge by their patch merge key; other lists are replaced; primitive merge lists add', () => {
    const out = smp({ containers: [{ name: 'a', env: [{ name: 'Y', value: '3' }, { name: 'Z', value: '4' }] }], tolerations: [{ key: 't2' }], finalizers: ['two'] });
    expect(out.containers[0].env).toEqual([{ name: 'X', value: '1' }, { name: 'Y', value: '3' }, { name: 'Z', value: '4' }]);
    expect(out.containers[0].image).toBe('a:1');
    expect(out.containers[1]).toEqual({ name: 'b', image: 'b:1' });
    expect(out.tolerations).toEqual([{ key: 't2' }]);
    expect(out.finalizers).toEqual(['one', 'two']);
  });

  test('$patch delete and replace, null deletes a field, $setElementOrder, $deleteFromPrimitiveList, $retainKeys', () => {
    expect(smp({ containers: [{ name: 'b', $patch: 'delete' }] }).containers.map((c) => c.name)).toEqual(['a']);
    expect(smp({ containers: [{ $patch: 'replace' }, { name: 'c', image: 'c:1' }] }).containers).toEqual([{ name: 'c', image: 'c:1' }]);
    expect(smp({ tolerations: null }).tolerations).toBeUndefined();
    expect(smp({ '$setElementOrder/containers': [{ name: 'b' }, { name: 'a' }] }).containers.map((c) => c.name)).toEqual(['b', 'a']);
    expect(smp({ '$deleteFromPrimitiveList/finalizers': ['one'] }).finalizers).toEqual([]);
    expect(applyPatch('strategic', { strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1 } } }, { strategy: { $retainKeys: ['type'], type: 'Recreate' } })).toEqual({ strategy: { type: 'Recreate' } });
  });

  test('container ports merge by containerPort, service ports by port', () => {
    const out = applyPatch('strategic', { spec: { ports: [{ port: 80, name: 'a' }] }, containers: [{ name: 'a', ports: [{ containerPort: 80 }] }] }, { spec: { ports: [{ port: 443, name: 'b' }] }, containers: [{ name: 'a', ports: [{ containerPort: 8080 }] }] });
    expect(out).toEqual({ spec: { ports: [{ port: 80, name: 'a' }, { port: 443, name: 'b' }] }, containers: [{ name: 'a', ports: [{ containerPort: 80 }, { containerPort: 8080 }] }] });
  });
});

describe('merge and JSON patch', () => {
  test('merge patch replaces lists and deletes with null', () => {
    expect(applyPatch('merge', { a: [1, 2], b: { c: 1, d: 2 } }, { a: [3], b: { c: null } })).toEqual({ a: [3], b: { d: 2 } });
  });

  test('JSON patch add/remove/replace/test/move/copy; a failed test is 400', () => {
    const out = applyPatch('json', { a: [1], b: { c: 1 } }, [
      { op: 'add', path: '/a/-', value: 2 },
      { op: 'copy', from: '/b/c', path: '/d' },
      { op: 'move', from: '/b', path: '/e' },
      { op: 'replace', path: '/d', value: 5 },
      { op: 'test', path: '/d', value: 5 },
    ]);
    expect(out).toEqual({ a: [1, 2], d: 5, e: { c: 1 } });
    expect(() => applyPatch('json', { a: 1 }, [{ op: 'test', path: '/a', value: 2 }])).toThrow(expect.objectContaining({ status: expect.objectContaining({ code: 400 }) }));
  });

  test('content types choose the patch; anything else is 415', () => {
    expect(patchTypeOf('application/strategic-merge-patch+json; charset=utf-8')).toBe('strategic');
    expect(patchTypeOf('application/merge-patch+json')).toBe('merge');
    expect(patchTypeOf('application/json-patch+json')).toBe('json');
    expect(() => patchTypeOf('application/apply-patch+yaml')).toThrow(expect.objectContaining({ status: expect.objectContaining({ code: 415 }) }));
  });
});
