import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

export interface FileDigest {
  sizeBytes: number;
  sha256: string;
}

export interface StreamToFileOptions {
  maxBytes: number;
  /** The error to fail with once more than `maxBytes` arrived; the rest of the source is not read. */
  tooLarge: () => Error;
  signal?: AbortSignal;
}

/** Counts and hashes what flows through, and stops the flow past `maxBytes`. */
class DigestMeter extends Transform {
  private readonly hash = createHash('sha256');
  sizeBytes = 0;

  constructor(
    private readonly maxBytes: number,
    private readonly tooLarge: () => Error,
  ) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null, data?: Buffer) => void): void {
    this.sizeBytes += chunk.length;
    if (this.sizeBytes > this.maxBytes) {
      callback(this.tooLarge());
      return;
    }
    this.hash.update(chunk);
    callback(null, chunk);
  }

  digest(): FileDigest {
    return { sizeBytes: this.sizeBytes, sha256: this.hash.digest('hex') };
  }
}

/**
 * Streams `source` into a new file at `destPath` (which must not exist yet), computing size and sha256 on the
 * way and flushing to disk before it resolves. On failure the partial file is left for the caller to remove,
 * because the caller owns the directory and its cleanup.
 */
export async function streamToFile(source: Readable, destPath: string, opts: StreamToFileOptions): Promise<FileDigest> {
  const meter = new DigestMeter(opts.maxBytes, opts.tooLarge);
  const sink = createWriteStream(destPath, { flags: 'wx', flush: true });
  await pipeline(source, meter, sink, opts.signal ? { signal: opts.signal } : {});
  return meter.digest();
}

/** Size and sha256 of a file already on disk (an upload that was moved, not copied). */
export async function digestFile(path: string): Promise<FileDigest> {
  const hash = createHash('sha256');
  let sizeBytes = 0;
  for await (const chunk of createReadStream(path)) {
    sizeBytes += (chunk as Buffer).length;
    hash.update(chunk as Buffer);
  }
  return { sizeBytes, sha256: hash.digest('hex') };
}
