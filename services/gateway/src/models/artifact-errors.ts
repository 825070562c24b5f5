import { AppError, ErrorCode, type FieldError } from '@remotegpu/core';

/**
 * The 422 answers of artifact ingestion, in one place so REST and GraphQL say the same thing. `field` is the
 * request field the user can fix: `file` for an upload, `artifact_uri` for a URI, `labels` for the labels.
 */
export type ArtifactField = 'file' | 'artifact_uri' | 'labels';

function unprocessable(field: ArtifactField, zh: string, en: string, cause?: unknown): AppError {
  return new AppError(ErrorCode.Unprocessable, { zh, en }, { fields: [{ field, message: { zh, en } }], cause });
}

export const artifactErrors = {
  notLoadable(field: ArtifactField, reason: string, cause?: unknown): AppError {
    return unprocessable(
      field,
      `模型文件不是可加载的 ONNX 模型: ${reason}`,
      `The artifact is not a loadable ONNX model: ${reason}`,
      cause,
    );
  },
  unsupportedTensor(field: ArtifactField, name: string, what: string): AppError {
    return unprocessable(
      field,
      `模型的输入输出 "${name}" 不受支持: ${what}`,
      `The model's input/output "${name}" is not supported: ${what}`,
    );
  },
  tooLarge(field: ArtifactField, limitBytes: number): AppError {
    return unprocessable(
      field,
      `模型文件过大，上限为 ${limitBytes} 字节`,
      `The artifact is too large; the limit is ${limitBytes} bytes`,
    );
  },
  invalidUri(detail: string): AppError {
    return unprocessable(
      'artifact_uri',
      `artifact_uri 无效: ${detail}；只支持 file:// 与 http(s):// 的绝对地址`,
      `Invalid artifact_uri: ${detail}; only absolute file:// and http(s):// URIs are accepted`,
    );
  },
  unsupportedScheme(scheme: string): AppError {
    return unprocessable(
      'artifact_uri',
      `不支持的 artifact_uri 协议 "${scheme}"；只支持 file:// 与 http(s)://`,
      `Unsupported artifact_uri scheme "${scheme}"; only file:// and http(s):// are accepted`,
    );
  },
  fileUrisDisabled(): AppError {
    return unprocessable(
      'artifact_uri',
      '服务器未配置允许的模型目录 (RGPU_ARTIFACT_ROOTS)，不接受 file:// 地址；请改为上传文件',
      'No artifact directories are configured (RGPU_ARTIFACT_ROOTS), so file:// URIs are refused; upload the file instead',
    );
  },
  outsideRoots(): AppError {
    return unprocessable(
      'artifact_uri',
      'file:// 地址不在允许的模型目录 (RGPU_ARTIFACT_ROOTS) 之内',
      'The file:// URI is not inside an allowed artifact directory (RGPU_ARTIFACT_ROOTS)',
    );
  },
  fileNotFound(): AppError {
    return unprocessable('artifact_uri', 'file:// 地址指向的文件不存在或不是普通文件', 'The file:// URI does not name an existing regular file');
  },
  privateHost(host: string): AppError {
    return unprocessable(
      'artifact_uri',
      `不允许从内部或本机地址下载模型: ${host}`,
      `Downloading artifacts from internal or loopback addresses is not allowed: ${host}`,
    );
  },
  hostNotFound(host: string, cause?: unknown): AppError {
    return unprocessable('artifact_uri', `无法解析主机名: ${host}`, `The host name does not resolve: ${host}`, cause);
  },
  fetchFailed(detail: string, cause?: unknown): AppError {
    return unprocessable('artifact_uri', `下载模型文件失败: ${detail}`, `Downloading the artifact failed: ${detail}`, cause);
  },
  httpStatus(status: number): AppError {
    return unprocessable(
      'artifact_uri',
      `下载模型文件失败: 服务器返回 HTTP ${status}`,
      `Downloading the artifact failed: the server answered HTTP ${status}`,
    );
  },
  redirect(status: number): AppError {
    return unprocessable(
      'artifact_uri',
      `下载地址返回重定向 (HTTP ${status})，不会跟随；请直接提供最终地址`,
      `The artifact URI answered with a redirect (HTTP ${status}), which is not followed; give the final URL instead`,
    );
  },
  timedOut(timeoutMs: number): AppError {
    return unprocessable(
      'artifact_uri',
      `下载模型文件超时 (${timeoutMs} 毫秒)`,
      `Downloading the artifact timed out after ${timeoutMs} ms`,
    );
  },
  /** The run at upload produced another number of scores than there are labels. */
  labelsMismatch(classes: number, labels: number): AppError {
    return unprocessable(
      'labels',
      `labels 数量 (${labels}) 与模型实际输出的类别分数个数 (${classes}) 不一致`,
      `labels has ${labels} entries but the model outputs ${classes} class scores per image`,
    );
  },
  /** Every reason core's imageClassifierSignature gave, each on its field; the message repeats them all. */
  notServable(problems: FieldError[]): AppError {
    return new AppError(
      ErrorCode.Unprocessable,
      {
        zh: `predict 无法使用该模型版本: ${problems.map((p) => `${p.field}: ${p.message.zh}`).join('；')}`,
        en: `predict cannot serve this model version: ${problems.map((p) => `${p.field}: ${p.message.en}`).join('; ')}`,
      },
      { fields: problems },
    );
  },
  probeFailed(field: string, dims: readonly number[], reason: string, cause?: unknown): AppError {
    const shape = `[${dims.join(',')}]`;
    return new AppError(
      ErrorCode.Unprocessable,
      {
        zh: `模型无法在 ${shape} 的输入上运行: ${reason}`,
        en: `The model could not run on an input of shape ${shape}: ${reason}`,
      },
      {
        fields: [{ field, message: { zh: `模型无法在 ${shape} 的输入上运行: ${reason}`, en: `the model could not run on an input of shape ${shape}: ${reason}` } }],
        cause,
      },
    );
  },
};
