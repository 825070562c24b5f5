import { rm } from 'node:fs/promises';
import type { Request, Response } from 'express';
import multer from 'multer';
import { AppError, errors, ErrorCode, isAppError, parseCreateModelVersion, type CreateModelVersionInput, type FieldError } from '@remotegpu/core';
import type { ArtifactSource } from '../application/index.js';

export interface UploadLimits {
  uploadBytes: number;
  /** Largest text field (labels may be long); the JSON body limit is a fair bound. */
  fieldBytes: number;
}

export interface SpooledForm {
  input: CreateModelVersionInput;
  source: ArtifactSource;
  /** Removes the spooled upload; safe to call when the ingestor already moved it away. */
  cleanup(): Promise<void>;
}

const FILE_FIELD = 'file';

/** Turns multer's and busboy's complaints into the contract's errors; disk trouble stays a 500. */
function uploadError(err: unknown, limits: UploadLimits): unknown {
  if (err instanceof multer.MulterError) {
    if (err.code === 'LIMIT_FILE_SIZE') return errors.payloadTooLarge(limits.uploadBytes);
    if (err.code === 'LIMIT_FIELD_VALUE') return errors.payloadTooLarge(limits.fieldBytes);
    const field = err.field ?? 'body';
    return errors.invalidInput([{ field, message: { zh: `无效的表单部分 (${err.code})`, en: `is not an accepted form part (${err.code})` } }]);
  }
  const code = typeof err === 'object' && err !== null ? (err as { code?: unknown }).code : undefined;
  const isSystemError = typeof code === 'string' && /^E[A-Z]+$/.test(code);
  if (isAppError(err) || isSystemError) return err;
  // busboy: "Unexpected end of form", "Multipart: Boundary not found", …
  return errors.invalidInput([{ field: 'body', message: { zh: '不是有效的 multipart/form-data 表单', en: 'is not a valid multipart/form-data form' } }]);
}

function fieldErrorsOf(err: unknown): FieldError[] {
  if (err instanceof AppError || isAppError(err)) {
    if (err.code === ErrorCode.BadRequest) return err.fields;
  }
  throw err;
}

/**
 * Parses a multipart version upload: `version`, `labels` (JSON text), optional `preprocessing` (JSON text),
 * and either the ONNX `file` or an `artifact_uri`. The file is spooled into `uploadDir`; on every failure it
 * is removed before the error propagates, and on success the caller must call `cleanup()` when done.
 */
export function multipartVersionParser(uploadDir: string, limits: UploadLimits) {
  const upload = multer({
    storage: multer.diskStorage({ destination: uploadDir }),
    limits: { fileSize: limits.uploadBytes, files: 1, fields: 8, parts: 9, fieldSize: limits.fieldBytes },
  }).single(FILE_FIELD);

  return async function parseForm(req: Request, res: Response): Promise<SpooledForm> {
    await new Promise<void>((resolve, reject) => {
      upload(req, res, (err?: unknown) => (err ? reject(uploadError(err, limits)) : resolve()));
    });
    const tempPath = req.file?.path;
    const cleanup = async () => {
      if (tempPath) await rm(tempPath, { force: true });
    };
    try {
      const body = (req.body ?? {}) as Record<string, unknown>;
      let input: CreateModelVersionInput | undefined;
      const problems: FieldError[] = [];
      try {
        input = parseCreateModelVersion(body, { fromForm: true });
      } catch (err) {
        problems.push(...fieldErrorsOf(err));
      }
      const hasUri = body.artifact_uri !== undefined;
      if (!tempPath && !hasUri) {
        problems.push({ field: FILE_FIELD, message: { zh: '为必填项：上传 ONNX 文件或提供 artifact_uri', en: 'is required: upload the ONNX file or give an artifact_uri' } });
      }
      if (tempPath && hasUri) {
        problems.push({ field: 'artifact_uri', message: { zh: '不能与文件同时提供', en: 'cannot be given together with a file' } });
      }
      if (problems.length || !input) throw errors.invalidInput(problems);
      const source: ArtifactSource = tempPath ? { kind: 'file', tempPath } : { kind: 'uri', uri: input.artifactUri! };
      return { input, source, cleanup };
    } catch (err) {
      await cleanup();
      throw err;
    }
  };
}
