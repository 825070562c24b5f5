/** One class of a predict answer (DESIGN §3): `confidence` is a probability in [0,1]. */
export interface Prediction {
  class: string;
  confidence: number;
}

/**
 * The predictions of a replica's (or the router's) predict answer, whoever reads it: the seed envelope
 * `{code:0, data:{predictions}}` or a bare `{predictions}`; null for anything else, so the caller can answer
 * "the replica sent something unreadable" instead of passing it on. One rule for the router and the gateway's
 * router client, which must agree on what a valid answer is.
 */
export function predictionsOfAnswer(body: unknown): Prediction[] | null {
  if (typeof body !== 'object' || body === null) return null;
  const record = body as { data?: { predictions?: unknown }; predictions?: unknown };
  const list = record.data?.predictions ?? record.predictions;
  if (!Array.isArray(list)) return null;
  const predictions: Prediction[] = [];
  for (const item of list) {
    if (typeof item !== 'object' || item === null) return null;
    const { class: label, confidence } = item as { class?: unknown; confidence?: unknown };
    if (typeof label !== 'string' || typeof confidence !== 'number' || !Number.isFinite(confidence)) return null;
    predictions.push({ class: label, confidence });
  }
  return predictions;
}
