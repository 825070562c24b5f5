import { execFile } from 'node:child_process';

/**
 * Hands out GPU indices exclusively: a replica gets `n` indices (its CUDA_VISIBLE_DEVICES) or nothing,
 * never a part, and gives them back when it is gone. Lowest free indices first, so placement is predictable.
 */
export class GpuAllocator {
  private readonly used = new Set<number>();

  constructor(readonly total: number) {}

  get free(): number {
    return this.total - this.used.size;
  }

  acquire(count: number): number[] | null {
    if (count === 0) return [];
    if (count > this.free) return null;
    const granted: number[] = [];
    for (let index = 0; index < this.total && granted.length < count; index++) {
      if (!this.used.has(index)) granted.push(index);
    }
    for (const index of granted) this.used.add(index);
    return granted;
  }

  release(indices: readonly number[]): void {
    for (const index of indices) this.used.delete(index);
  }
}

/**
 * The number of GPUs `nvidia-smi -L` lists (one `GPU <n>: ...` line each); 0 when the tool is missing,
 * fails or hangs, which is the normal case on a CPU-only machine.
 */
export function detectGpuCount(timeoutMs = 5_000): Promise<number> {
  return new Promise((resolve) => {
    execFile('nvidia-smi', ['-L'], { timeout: timeoutMs }, (error, stdout) => {
      if (error) return resolve(0);
      resolve(stdout.split('\n').filter((line) => /^GPU \d+/.test(line.trim())).length);
    });
  });
}
