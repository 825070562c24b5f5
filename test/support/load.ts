import { COLOR_LABELS } from '@remotegpu/testkit';
import { colorImage, predictionProblem, predictVia, waitFor, type ColorName, type PlatformClient, type PredictPath } from './client.js';

export interface LoadFailure {
  /** ms since the load started. */
  at: number;
  worker: number;
  problem: string;
}

export interface LoadOptions {
  client: PlatformClient;
  service: { id: string; endpointUrl: string };
  /** Concurrent clients, each sending its next request when the previous one was answered. */
  workers: number;
  path?: PredictPath;
}

/**
 * A client that keeps predicting until stopped, checking every answer (200, the right class, sorted
 * probabilities). What a user would call "a failed prediction" lands in `failures`, with what went wrong.
 */
export class PredictionLoad {
  ok = 0;
  readonly failures: LoadFailure[] = [];
  private running = false;
  private workers: Promise<void>[] = [];
  private startedAt = 0;
  private images: { color: ColorName; image: string }[] = [];

  constructor(private readonly options: LoadOptions) {}

  async start(): Promise<this> {
    // Not the model's 32×32: the preprocessing resizes on every request, as real clients' images need.
    this.images = await Promise.all(COLOR_LABELS.map(async (color) => ({ color, image: await colorImage(color, 'png', 48, 40) })));
    this.running = true;
    this.startedAt = Date.now();
    this.workers = Array.from({ length: this.options.workers }, (_, worker) => this.work(worker));
    return this;
  }

  /** Resolves once `count` more predictions have succeeded: proof the load really ran across a window. */
  async progress(count: number, timeoutMs = 20_000): Promise<void> {
    const target = this.ok + count;
    await waitFor(() => this.ok, (ok) => ok >= target || !this.running, `${count} more successful predictions`, timeoutMs, 10);
  }

  async stop(): Promise<{ ok: number; failures: LoadFailure[] }> {
    this.running = false;
    await Promise.all(this.workers);
    return { ok: this.ok, failures: this.failures };
  }

  private async work(worker: number): Promise<void> {
    let turn = worker;
    while (this.running) {
      const { color, image } = this.images[turn++ % this.images.length];
      let problem: string | null;
      try {
        const outcome = await predictVia(this.options.client, this.options.path ?? 'data-plane', this.options.service, image);
        problem = predictionProblem(outcome, color);
      } catch (err) {
        problem = `request failed: ${err instanceof Error ? `${err.message} ${String((err as { cause?: unknown }).cause ?? '')}` : String(err)}`;
      }
      if (problem === null) this.ok += 1;
      else this.failures.push({ at: Date.now() - this.startedAt, worker, problem });
    }
  }
}
