import { Router, type Request, type Response } from 'express';
import { errors, parseCreateModel, parseCreateModelVersion, parseModelListQuery, parseModelVersionPatch } from '@remotegpu/core';
import {
  createModel,
  createModelVersion,
  deleteModel,
  deleteModelVersion,
  getModel,
  getModelWithVersions,
  listModels,
  type AppDeps,
  type ArtifactSource,
} from '../application/index.js';
import { sendData, sendNoContent } from '../http/envelope.js';
import { MESSAGES } from '../http/i18n.js';
import { requireJson } from '../http/json-body.middleware.js';
import { principalOf } from '../http/locals.js';
import { updateModelVersion } from '../application/model-version.batching.js';
import { toModel, toModelDetail, toModelVersion } from './model.mapper.js';
import { multipartVersionParser, type UploadLimits } from './model-version.upload.js';
import { toPage } from './pagination.js';
import { modelIdParam, versionParam } from './route-params.js';

export interface ModelRouteOptions {
  uploadDir: string;
  limits: UploadLimits;
}

/** Model registry routes: register a model, upload versions (multipart file or JSON artifact_uri), list, detail, delete. */
export function modelRoutes(deps: AppDeps, options: ModelRouteOptions): Router {
  const router = Router();
  const parseForm = multipartVersionParser(options.uploadDir, options.limits);

  router.post('/models', requireJson, async (req, res) => {
    const model = await createModel(deps, principalOf(res), parseCreateModel(req.body));
    sendData(req, res, 201, MESSAGES.modelCreated, toModel(model));
  });

  router.get('/models', async (req, res) => {
    const query = parseModelListQuery(req.query);
    const page = await listModels(deps, principalOf(res), query);
    sendData(req, res, 200, MESSAGES.success, toPage(page, query, toModel));
  });

  router.get('/models/:model_id', async (req, res) => {
    const { model, versions } = await getModelWithVersions(deps, principalOf(res), modelIdParam(req.params.model_id));
    sendData(req, res, 200, MESSAGES.success, toModelDetail(model, versions));
  });

  router.post('/models/:model_id/versions', async (req: Request, res: Response) => {
    const principal = principalOf(res);
    const modelId = modelIdParam(req.params.model_id);
    if (req.is('multipart/form-data')) {
      // 404 before a possibly large upload is spooled to disk for nothing.
      await getModel(deps, principal, modelId);
      const form = await parseForm(req, res);
      try {
        const version = await createModelVersion(deps, principal, modelId, form.input, form.source);
        sendData(req, res, 201, MESSAGES.modelVersionCreated, toModelVersion(version));
      } finally {
        await form.cleanup();
      }
      return;
    }
    if (!req.is('application/json')) throw notAnUpload();
    const input = parseCreateModelVersion(req.body, { requireUri: true });
    const source: ArtifactSource = { kind: 'uri', uri: input.artifactUri! };
    const version = await createModelVersion(deps, principal, modelId, input, source);
    sendData(req, res, 201, MESSAGES.modelVersionCreated, toModelVersion(version));
  });

  // 409 while a live service uses the model / version; the stored artifacts go with the records.
  router.delete('/models/:model_id', async (req, res) => {
    await deleteModel(deps, principalOf(res), modelIdParam(req.params.model_id));
    sendNoContent(res);
  });

  // Only `batching` changes in place; 422 when the model's batch dimension is fixed at 1.
  router.patch('/models/:model_id/versions/:version', requireJson, async (req, res) => {
    const modelId = modelIdParam(req.params.model_id);
    const version = versionParam(req.params.version, modelId);
    const updated = await updateModelVersion(deps, principalOf(res), modelId, version, parseModelVersionPatch(req.body));
    sendData(req, res, 200, MESSAGES.success, toModelVersion(updated));
  });

  router.delete('/models/:model_id/versions/:version', async (req, res) => {
    const modelId = modelIdParam(req.params.model_id);
    await deleteModelVersion(deps, principalOf(res), modelId, versionParam(req.params.version, modelId));
    sendNoContent(res);
  });

  return router;
}

function notAnUpload() {
  return errors.invalidInput([
    {
      field: 'body',
      message: {
        zh: '必须是 multipart/form-data 表单（version、labels、file）或 JSON（version、artifact_uri、labels）',
        en: 'must be a multipart/form-data form (version, labels, file) or JSON (version, artifact_uri, labels)',
      },
    },
  ]);
}
