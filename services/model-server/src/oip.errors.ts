/** An Open Inference Protocol error: `{"error": message}` with this status. */
export class OipError extends Error {
  constructor(
    readonly status: 400 | 404,
    message: string,
  ) {
    super(message);
    this.name = 'OipError';
  }
}
