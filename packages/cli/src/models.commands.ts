import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import type { Command } from 'commander';
import { addBatchingOptions, batchingOf, batchingText, type BatchingDto, type BatchingFlags } from './batching.options.js';
import { contextOf, intOption, UsageError } from './context.js';
import { emit, shortTime } from './output.js';
import { renderFields, renderTable } from './table.render.js';
import type { Page } from './api.types.js';

interface ModelDto {
  model_id: number;
  name: string;
  workspace_id: number;
  framework: string;
  task: string;
  description: string;
  created_at: string;
}
interface TensorSpec {
  name: string;
  datatype: string;
  shape: (number | string)[];
}
interface VersionDto {
  model_id: number;
  version: string;
  size_bytes: number;
  sha256: string;
  inputs: TensorSpec[];
  outputs: TensorSpec[];
  labels: string[];
  /** null: off. */
  batching: BatchingDto | null;
  created_at: string;
}

const tensors = (ts: TensorSpec[]) => ts.map((t) => `${t.name} ${t.datatype}[${t.shape.join(',')}]`).join('; ');

function versionText(v: VersionDto): string {
  return renderFields([
    ['model', v.model_id],
    ['version', v.version],
    ['size', `${v.size_bytes} bytes`],
    ['sha256', v.sha256],
    ['inputs', tensors(v.inputs)],
    ['outputs', tensors(v.outputs)],
    ['labels', v.labels.join(', ')],
    ['batching', batchingText(v.batching)],
  ]);
}

export function modelsCommands(program: Command): void {
  const models = program.command('models').description('register ONNX models and upload versions');

  models
    .command('create')
    .description('register a model (then upload a version)')
    .requiredOption('--name <name>', 'model name')
    .option('--framework <framework>', 'onnx, pytorch, tensorflow …', 'onnx')
    .option('--task <task>', 'model task', 'image-classification')
    .option('--description <text>', 'description', '')
    .action(async (o: { name: string; framework: string; task: string; description: string }, cmd: Command) => {
      const ctx = await contextOf(cmd);
      const body = { name: o.name, workspace_id: ctx.workspace(), framework: o.framework, task: o.task, description: o.description };
      const { message, data } = await ctx.api.request<ModelDto>('POST', '/models', body);
      emit(ctx, data, () => `${message}: model ${data.model_id} (${data.name})\n`);
    });

  const upload = models
    .command('upload')
    .description('upload an ONNX file as a new version (multipart)')
    .argument('<model_id>', 'model id', intOption('model_id', 1))
    .requiredOption('--file <path>', 'the .onnx file')
    .requiredOption('--version <version>', 'version name, e.g. v1.0')
    .requiredOption('--labels <labels>', 'class labels: a JSON array or a comma list (red,green,blue)')
    .option('--preprocessing <json>', 'JSON {"mean":[…],"std":[…],"size":[h,w]}');
  addBatchingOptions(upload).action(
    async (modelId: number, o: { file: string; version: string; labels: string; preprocessing?: string } & BatchingFlags, cmd: Command) => {
      const ctx = await contextOf(cmd);
      const form = new FormData();
      form.set('version', o.version);
      form.set('labels', JSON.stringify(parseLabels(o.labels)));
      if (o.preprocessing !== undefined) {
        try {
          JSON.parse(o.preprocessing);
        } catch {
          throw new UsageError('--preprocessing must be JSON, e.g. {"size":[224,224]}');
        }
        form.set('preprocessing', o.preprocessing);
      }
      const batching = batchingOf(o);
      if (batching) form.set('batching', JSON.stringify(batching));
      let bytes: Buffer;
      try {
        bytes = await readFile(o.file);
      } catch (err) {
        throw new UsageError(`cannot read --file ${o.file}: ${(err as Error).message}`);
      }
      form.set('file', new Blob([new Uint8Array(bytes)]), basename(o.file));
      const { message, data } = await ctx.api.request<VersionDto>('POST', `/models/${modelId}/versions`, form);
      emit(ctx, data, () => `${message}\n${versionText(data)}`);
    },
  );

  // PATCH of a version: only its batching changes in place (a new artifact or labels make a new version).
  const batching = models
    .command('batching')
    .description('change dynamic batching of a version (the flags replace the whole setting), or turn it off with --off')
    .argument('<model_id>', 'model id', intOption('model_id', 1))
    .argument('<version>', 'version name')
    .option('--off', 'turn batching off (one model run per request)');
  addBatchingOptions(batching).action(async (modelId: number, version: string, o: { off?: boolean } & BatchingFlags, cmd: Command) => {
    const wanted = batchingOf(o);
    if (o.off && wanted) throw new UsageError('--off cannot go with --max-batch-size');
    if (!o.off && !wanted) throw new UsageError('pass --max-batch-size <n> (with --max-queue-delay-ms, --preferred-batch-sizes) or --off');
    const ctx = await contextOf(cmd);
    const path = `/models/${modelId}/versions/${encodeURIComponent(version)}`;
    const { message, data } = await ctx.api.request<VersionDto>('PATCH', path, { batching: wanted ?? null });
    emit(ctx, data, () => `${message}\n${versionText(data)}`);
  });

  models
    .command('list')
    .description('list models, or one model with its versions')
    .argument('[model_id]', 'show this model and its versions', intOption('model_id', 1))
    .option('--page <n>', 'page', intOption('--page', 1), 1)
    .option('--page-size <n>', 'page size', intOption('--page-size', 1), 20)
    .action(async (modelId: number | undefined, o: { page: number; pageSize: number }, cmd: Command) => {
      const ctx = await contextOf(cmd);
      if (modelId !== undefined) {
        const { data } = await ctx.api.request<ModelDto & { versions: VersionDto[] }>('GET', `/models/${modelId}`);
        emit(ctx, data, () =>
          renderFields([['model', data.model_id], ['name', data.name], ['workspace', data.workspace_id], ['framework', data.framework], ['task', data.task]]) +
          '\n' +
          renderTable(
            ['version', 'size', 'sha256', 'labels', 'created', 'batching'],
            data.versions.map((v) => [v.version, v.size_bytes, v.sha256.slice(0, 12), v.labels.join(','), shortTime(v.created_at), batchingText(v.batching)]),
          ),
        );
        return;
      }
      const ws = ctx.workspaceIfKnown();
      const q = new URLSearchParams({ page: String(o.page), page_size: String(o.pageSize) });
      if (ws !== undefined) q.set('workspace_id', String(ws));
      const { data } = await ctx.api.request<Page<ModelDto>>('GET', `/models?${q}`);
      emit(ctx, data, () =>
        renderTable(['id', 'name', 'workspace', 'framework', 'task', 'created'], data.items.map((m) => [m.model_id, m.name, m.workspace_id, m.framework, m.task, shortTime(m.created_at)])) +
        `page ${data.pagination.page}/${Math.max(1, data.pagination.total_pages)}, ${data.pagination.total} in all\n`,
      );
    });

  models
    .command('delete')
    .description('delete a model (or one version with --version); refused with 409 while a service uses it')
    .argument('<model_id>', 'model id', intOption('model_id', 1))
    .option('--version <version>', 'delete only this version')
    .action(async (modelId: number, o: { version?: string }, cmd: Command) => {
      const ctx = await contextOf(cmd);
      const path = o.version ? `/models/${modelId}/versions/${encodeURIComponent(o.version)}` : `/models/${modelId}`;
      await ctx.api.request('DELETE', path);
      const what = o.version ? `model ${modelId} version ${o.version}` : `model ${modelId}`;
      emit(ctx, { deleted: true, model_id: modelId, version: o.version ?? null }, () => `Deleted ${what}\n`);
    });
}

/** A JSON array (`["a","b"]`) or a comma list (`a,b`); labels with commas need the JSON form. */
export function parseLabels(v: string): string[] {
  const t = v.trim();
  if (t.startsWith('[')) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(t);
    } catch {
      throw new UsageError('--labels is not valid JSON');
    }
    if (!Array.isArray(parsed) || !parsed.every((x) => typeof x === 'string')) throw new UsageError('--labels must be a JSON array of strings');
    return parsed;
  }
  return t.split(',').map((s) => s.trim());
}
