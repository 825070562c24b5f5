import { describe, expect, it } from 'vitest';
import { EXIT_CONFIG, failedLine, listeningLine, parseStdoutEvent } from './stdout.protocol.js';

describe('stdout protocol', () => {
  it('writes the listening line in its exact, documented form and reads it back', () => {
    const line = listeningLine(43121, 'cuda');
    expect(line).toBe('{"event":"listening","port":43121,"device":"cuda"}\n');
    expect(parseStdoutEvent(line.trim())).toEqual({ event: 'listening', port: 43121, device: 'cuda' });
  });

  it('reads a failed line and ignores anything that is not an event', () => {
    expect(parseStdoutEvent(failedLine(EXIT_CONFIG, 'RGPU_LABELS: must be valid JSON').trim())).toEqual({
      event: 'failed',
      exit_code: 78,
      reason: 'RGPU_LABELS: must be valid JSON',
    });
    for (const stray of ['hello', '{"event":"listening","port":"80","device":"cpu"}', '{"event":"listening","port":80,"device":"tpu"}', 'null']) {
      expect(parseStdoutEvent(stray), stray).toBeNull();
    }
  });

  it('carries a status reason code and its params, and drops a code that is not one', () => {
    const line = failedLine(EXIT_CONFIG, 'sha256 mismatch', { code: 'artifact_checksum_mismatch', params: { expected: 'aa', actual: 'bb' } });
    expect(parseStdoutEvent(line.trim())).toEqual({
      event: 'failed',
      exit_code: 78,
      reason: 'sha256 mismatch',
      code: 'artifact_checksum_mismatch',
      params: { expected: 'aa', actual: 'bb' },
    });
    expect(parseStdoutEvent('{"event":"failed","exit_code":1,"reason":"x","code":"Not A Code","params":{"a":1}}')).toEqual({
      event: 'failed',
      exit_code: 1,
      reason: 'x',
    });
  });
});
