import { describe, expect, it } from 'vitest';
import type { ImageClassifier } from '../src/image.classifier.js';
import { InferencePipeline } from '../src/inference.pipeline.js';
import type { LoadedModel } from '../src/model.session.js';
import type { Prediction } from '../src/scores.postprocess.js';

/** A promise and the hands that settle it. */
interface Deferred<T> {
  promise: Promise<T>;
  resolve(value: T): void;
}
function deferred<T>(): Deferred<T> {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

/** Lets every promise callback that can run, run (the pipeline and the batcher only chain promises here). */
const settle = () => new Promise<void>((r) => setImmediate(r));

/**
 * The classifier's three steps, each call recorded and left pending until the test settles it: `prepare` (decode
 * and preprocess one image), `scoreBatch` (the one model run of a batch) and `finish` (scores → predictions).
 */
class StubClassifier {
  readonly prepares: { image: number; done: Deferred<Float32Array> }[] = [];
  readonly runs: { images: number[]; done: Deferred<Float32Array[]> }[] = [];

  prepare(image: Buffer): Promise<Float32Array> {
    const done = deferred<Float32Array>();
    this.prepares.push({ image: image[0], done });
    return done.promise;
  }

  /** Settles image i's decoding: its tensor holds just i. */
  decoded(i: number): void {
    this.prepares[i].done.resolve(Float32Array.of(this.prepares[i].image));
  }

  scoreBatch(images: Float32Array[]): Promise<Float32Array[]> {
    const done = deferred<Float32Array[]>();
    this.runs.push({ images: images.map((d) => d[0]), done });
    return done.promise;
  }

  /** Ends run r: each image scores 100 + its number. */
  ran(r: number): void {
    this.runs[r].done.resolve(this.runs[r].images.map((i) => Float32Array.of(100 + i)));
  }

  finish(values: Float32Array): Prediction[] {
    return [{ class: String(values[0]), confidence: 1 }];
  }
}

function pipelineWith(classifier: StubClassifier): InferencePipeline {
  // predict never touches the session with batching on: only the classifier's steps run.
  const model = { session: {}, inputs: [], outputs: [], executionProvider: 'cpu' } as unknown as LoadedModel;
  return new InferencePipeline(model, classifier as unknown as ImageClassifier, { maxBatchSize: 8, maxQueueDelayMs: 1000, preferredBatchSizes: [] }, {
    model: 'svc-test0000001',
    version: 'v1',
  });
}

const image = (i: number) => Buffer.from([i]);
const classOf = async (p: Promise<Prediction[]>) => (await p)[0].class;

describe('InferencePipeline with batching on', () => {
  it('decodes concurrent requests at the same time, not one after another', async () => {
    const classifier = new StubClassifier();
    const pipeline = pipelineWith(classifier);
    const answers = [0, 1, 2, 3].map((i) => pipeline.predict(image(i), 1));
    await settle();
    // All four decodings are under way although none has finished.
    expect(classifier.prepares.map((p) => p.image)).toEqual([0, 1, 2, 3]);
    expect(classifier.runs).toHaveLength(0);

    // They finish in any order; the batch waits for the last one still decoding (its company), then runs once.
    for (const i of [2, 0, 3]) classifier.decoded(i);
    await settle();
    expect(classifier.runs).toHaveLength(0);
    classifier.decoded(1);
    await settle();
    expect(classifier.runs.map((r) => [...r.images].sort())).toEqual([[0, 1, 2, 3]]);

    classifier.ran(0);
    expect(await Promise.all(answers.map(classOf))).toEqual(['100', '101', '102', '103']);
  });

  it('keeps decoding new requests while a batch runs; they form the next batch once it is done', async () => {
    const classifier = new StubClassifier();
    const pipeline = pipelineWith(classifier);
    const first = [0, 1].map((i) => pipeline.predict(image(i), 1));
    await settle();
    classifier.decoded(0);
    classifier.decoded(1);
    await settle();
    expect(classifier.runs.map((r) => r.images)).toEqual([[0, 1]]);

    // The batch [0, 1] is running: new requests are decoded now, not after it.
    const second = [2, 3, 4].map((i) => pipeline.predict(image(i), 1));
    await settle();
    expect(classifier.prepares.map((p) => p.image)).toEqual([0, 1, 2, 3, 4]);
    for (const i of [2, 3, 4]) classifier.decoded(i);
    await settle();
    // Decoded and queued, but the session runs one batch at a time.
    expect(classifier.runs).toHaveLength(1);

    classifier.ran(0);
    expect(await Promise.all(first.map(classOf))).toEqual(['100', '101']);
    await settle();
    expect(classifier.runs.map((r) => r.images)).toEqual([
      [0, 1],
      [2, 3, 4],
    ]);
    classifier.ran(1);
    expect(await Promise.all(second.map(classOf))).toEqual(['102', '103', '104']);
  });
});
