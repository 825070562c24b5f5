import type { NatsBusOptions } from './nats-bus.options.js';
import { assertStreamName, assertSubjectPrefix } from './nats.subjects.js';

/**
 * The stream and subject prefix every process of one platform must agree on, from the environment:
 * `RGPU_NATS_STREAM` (default `RGPU_EVENTS`) and `RGPU_NATS_SUBJECT_PREFIX` (default `rgpu`). Two platforms (or two
 * test runs) sharing one NATS server stay apart by giving each its own pair. Each process's config parses them
 * with this, so a bad value is named at start like any other variable.
 */
export function natsNamingFromEnv(env: Record<string, string | undefined>): {
  naming: Pick<NatsBusOptions, 'streamName' | 'subjectPrefix'>;
  problems: string[];
} {
  const naming: Pick<NatsBusOptions, 'streamName' | 'subjectPrefix'> = {};
  const problems: string[] = [];
  const stream = env.RGPU_NATS_STREAM || undefined;
  const prefix = env.RGPU_NATS_SUBJECT_PREFIX || undefined;
  if (stream !== undefined) {
    try {
      assertStreamName(stream);
      naming.streamName = stream;
    } catch {
      problems.push(`RGPU_NATS_STREAM: must be letters, digits, "-" and "_", got "${stream.slice(0, 60)}"`);
    }
  }
  if (prefix !== undefined) {
    try {
      assertSubjectPrefix(prefix);
      naming.subjectPrefix = prefix;
    } catch {
      problems.push(`RGPU_NATS_SUBJECT_PREFIX: must be tokens of letters, digits, "-" and "_" separated by ".", got "${prefix.slice(0, 60)}"`);
    }
  }
  return { naming, problems };
}
