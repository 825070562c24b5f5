import { Router, type Request } from 'express';
import { parseCreateService, parsePredict, parseServiceListQuery, parseUpdateService } from '@remotegpu/core';
import {
  createService,
  idempotencyClaim,
  deleteService,
  getService,
  listServiceEvents,
  listServices,
  predict,
  startService,
  stopService,
  updateService,
  type AppDeps,
} from '../application/index.js';
import { sendData, sendNoContent } from '../http/envelope.js';
import { languageOf, MESSAGES } from '../http/i18n.js';
import { requireJson } from '../http/json-body.middleware.js';
import { localsOf, principalOf, traceOf } from '../http/locals.js';
import { toPage } from './pagination.js';
import { serviceIdParam } from './route-params.js';
import { toServiceCreated, toServiceDetail, toServiceEvent, toServiceSummary } from './service.mapper.js';

/** Seed routes 1–6 plus start, PATCH and events. Each handler: parse, call one use case, map to the seed shape. */
export function serviceRoutes(deps: AppDeps): Router {
  const router = Router();
  const detail = (req: Request, s: Parameters<typeof toServiceDetail>[0]) => toServiceDetail(s, deps.publicUrl, languageOf(req.get('accept-language')));

  router.post('/inference/services', requireJson, async (req, res) => {
    const input = parseCreateService(req.body);
    const claim = idempotencyClaim(req.get('idempotency-key'), input, 'Idempotency-Key');
    const { service, replayed } = await createService(deps, principalOf(res), input, claim, traceOf(res));
    // A replay answers exactly like the first request did (a create always answered `creating`; id, name and
    // created_at never change), even if the service has moved on since; the header says it was not created twice.
    if (replayed) res.set('Idempotent-Replayed', 'true');
    sendData(req, res, 201, MESSAGES.serviceCreated, { ...toServiceCreated(service), status: 'creating' });
  });

  router.get('/inference/services', async (req, res) => {
    const query = parseServiceListQuery(req.query);
    const page = await listServices(deps, principalOf(res), query);
    sendData(req, res, 200, MESSAGES.success, toPage(page, query, (s) => toServiceSummary(s, deps.publicUrl)));
  });

  router.get('/inference/services/:id', async (req, res) => {
    const service = await getService(deps, principalOf(res), serviceIdParam(req.params.id));
    sendData(req, res, 200, MESSAGES.success, detail(req, service));
  });

  router.patch('/inference/services/:id', requireJson, async (req, res) => {
    const id = serviceIdParam(req.params.id);
    const service = await updateService(deps, principalOf(res), id, parseUpdateService(req.body), traceOf(res));
    sendData(req, res, 200, MESSAGES.serviceUpdated, detail(req, service));
  });

  router.delete('/inference/services/:id', async (req, res) => {
    await deleteService(deps, principalOf(res), serviceIdParam(req.params.id), traceOf(res));
    sendNoContent(res);
  });

  router.post('/inference/services/:id/stop', async (req, res) => {
    await stopService(deps, principalOf(res), serviceIdParam(req.params.id), traceOf(res));
    sendData(req, res, 200, MESSAGES.serviceStopping); // the seed's answer carries no data
  });

  router.post('/inference/services/:id/start', async (req, res) => {
    const service = await startService(deps, principalOf(res), serviceIdParam(req.params.id), traceOf(res));
    sendData(req, res, 200, MESSAGES.serviceStarting, detail(req, service));
  });

  router.get('/inference/services/:id/events', async (req, res) => {
    const events = await listServiceEvents(deps, principalOf(res), serviceIdParam(req.params.id));
    const lang = languageOf(req.get('accept-language'));
    sendData(req, res, 200, MESSAGES.success, { items: events.map((e) => toServiceEvent(e, lang)) });
  });

  router.post('/inference/services/:id/predict', requireJson, async (req, res) => {
    const id = serviceIdParam(req.params.id);
    const call = { language: languageOf(req.get('accept-language')), requestId: localsOf(res).requestId, authorization: req.get('authorization') };
    const predictions = await predict(deps, principalOf(res), id, parsePredict(req.body), call);
    sendData(req, res, 200, MESSAGES.success, { predictions: predictions.map((p) => ({ class: p.class, confidence: p.confidence })) });
  });

  return router;
}
