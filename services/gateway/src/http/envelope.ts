import type { Request, Response } from 'express';
import type { Localized } from '@remotegpu/core';
import { languageOf, localize } from './i18n.js';

/** The success envelope of the seed API: `{code: 0, message, data}`; `data` is left out when there is none. */
export interface SuccessEnvelope<T> {
  code: 0;
  message: string;
  data?: T;
}

export function sendData<T>(req: Request, res: Response, status: number, message: Localized, data?: T): void {
  const lang = languageOf(req.get('accept-language'));
  const body: SuccessEnvelope<T> = data === undefined ? { code: 0, message: localize(message, lang) } : { code: 0, message: localize(message, lang), data };
  res.set('Content-Language', lang).vary('Accept-Language').status(status).json(body);
}

/** HTTP forbids a body on 204: nothing is written, not even an envelope. */
export function sendNoContent(res: Response): void {
  res.status(204).end();
}
