import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { ApiError } from './api.client.js';
import { contextOf, intOption, memoryOption, numberOption, UsageError, type Context } from './context.js';
import { followLogs, printLogs } from './logs.command.js';
import { emit, gib, shortTime } from './output.js';
import { renderFields, renderTable } from './table.render.js';
import { watchService, type StatusChange, type WatchTarget } from './watch.subscription.js';
import type { Page, ServiceDetail, ServiceSummary } from './api.types.js';

interface EventDto {
  type: string;
  status: string;
  reason: string | null;
  message: string | null;
  at: string;
}

const svcPath = (id: string) => `/inference/services/${encodeURIComponent(id)}`;

function detailText(s: ServiceDetail): string {
  return renderFields([
    ['id', s.service_id],
    ['name', s.name],
    ['status', s.status + (s.status_reason ? ` (${s.status_reason})` : '')],
    ['message', s.status_message],
    ['ready', `${s.ready_replicas}/${s.replicas}`],
    ['model', `${s.model_id} ${s.model_version} (${s.framework})`],
    ['resources', `cpu ${s.cpu}, memory ${gib(s.memory)}, gpu ${s.gpu}`],
    ['workspace', s.workspace_id],
    ['endpoint', s.endpoint_url],
    ['description', s.description || '-'],
    ['created', shortTime(s.created_at)],
    ['updated', shortTime(s.updated_at)],
  ]);
}

/**
 * Prints live progress until the service is running (exit 0) or failed/stopped (an ApiError: exit 1). With
 * --json the changes go to stderr as they come and the final state to stdout, so a script still reads one JSON.
 */
async function follow(ctx: Context, id: string, timeoutS: number, target: WatchTarget = 'running'): Promise<void> {
  const started = Date.now();
  const line = (c: StatusChange) => {
    const text = `+${((Date.now() - started) / 1000).toFixed(2)}s ${c.status} ${c.readyReplicas}/${c.replicas} ready${c.reason ? ` ${c.reason}` : ''}${c.message ? `: ${c.message}` : ''}\n`;
    (ctx.json ? process.stderr : process.stdout).write(text);
  };
  const final = await watchService(ctx.api, id, line, timeoutS * 1000, target);
  if (ctx.json) ctx.out(JSON.stringify({ service_id: id, ...final }, null, 2) + '\n');
  if (final.status !== target) throw new ApiError(0, 0, `${id} is ${final.status}${final.reason ? ` (${final.reason})` : ''}${final.message ? `: ${final.message}` : ''}`);
}

export function servicesCommands(program: Command): void {
  const services = program.command('services').alias('svc').description('create, inspect, scale, stop and call inference services');

  services
    .command('create')
    .description('create an inference service')
    .requiredOption('--name <name>', 'service name')
    .requiredOption('--model <model_id>', 'model id', intOption('--model', 1))
    .requiredOption('--version <version>', 'model version')
    .option('--description <text>', 'description')
    .option('--framework <framework>', 'defaults to the model\'s')
    .option('--cpu <cores>', 'CPU cores', numberOption('--cpu'))
    .option('--memory <size>', 'memory: bytes or 512Mi, 2Gi', memoryOption)
    .option('--gpu <n>', 'GPUs', intOption('--gpu'))
    .option('--replicas <n>', 'replicas', intOption('--replicas', 1))
    .option('--wait', 'follow the status until running or failed')
    .option('--timeout <seconds>', 'with --wait: give up after this long', intOption('--timeout', 1), 300)
    .action(async (o: { name: string; model: number; version: string; description?: string; framework?: string; cpu?: number; memory?: number; gpu?: number; replicas?: number; wait?: boolean; timeout: number }, cmd: Command) => {
      const ctx = await contextOf(cmd);
      const body = {
        name: o.name,
        description: o.description,
        workspace_id: ctx.workspace(),
        model_id: o.model,
        model_version: o.version,
        framework: o.framework,
        cpu: o.cpu,
        memory: o.memory,
        gpu: o.gpu,
        replicas: o.replicas,
      };
      // One key per invocation: a retried request inside it (none today) could never create a second service.
      const { message, data } = await ctx.api.request<ServiceSummary>('POST', '/inference/services', body, { 'idempotency-key': randomUUID() });
      if (!o.wait) return emit(ctx, data, () => `${message}: ${data.service_id} (${data.status})\n`);
      (ctx.json ? process.stderr : process.stdout).write(`${message}: ${data.service_id}\n`);
      await follow(ctx, data.service_id, o.timeout);
    });

  services
    .command('watch')
    .description('show live status changes (GraphQL subscription) until running or failed')
    .argument('<service_id>')
    .option('--timeout <seconds>', 'give up after this long', intOption('--timeout', 1), 300)
    .action(async (id: string, o: { timeout: number }, cmd: Command) => follow(await contextOf(cmd), id, o.timeout));

  services
    .command('list')
    .description('list services')
    .option('--status <status>', 'creating, running, updating, stopping, stopped, failed')
    .option('--name <text>', 'name contains')
    .option('--page <n>', 'page', intOption('--page', 1), 1)
    .option('--page-size <n>', 'page size', intOption('--page-size', 1), 20)
    .action(async (o: { status?: string; name?: string; page: number; pageSize: number }, cmd: Command) => {
      const ctx = await contextOf(cmd);
      const q = new URLSearchParams({ page: String(o.page), page_size: String(o.pageSize) });
      const ws = ctx.workspaceIfKnown();
      if (ws !== undefined) q.set('workspace_id', String(ws));
      if (o.status) q.set('status', o.status);
      if (o.name) q.set('name', o.name);
      const { data } = await ctx.api.request<Page<ServiceSummary>>('GET', `/inference/services?${q}`);
      emit(ctx, data, () =>
        renderTable(['id', 'name', 'status', 'replicas', 'created', 'endpoint'], data.items.map((s) => [s.service_id, s.name, s.status, s.replicas, shortTime(s.created_at), s.endpoint_url])) +
        `page ${data.pagination.page}/${Math.max(1, data.pagination.total_pages)}, ${data.pagination.total} in all\n`,
      );
    });

  services
    .command('get')
    .description('show one service')
    .argument('<service_id>')
    .action(async (id: string, _o: unknown, cmd: Command) => {
      const ctx = await contextOf(cmd);
      const { data } = await ctx.api.request<ServiceDetail>('GET', svcPath(id));
      emit(ctx, data, () => detailText(data));
    });

  const patch = async (cmd: Command, id: string, body: Record<string, unknown>) => {
    const ctx = await contextOf(cmd);
    const { message, data } = await ctx.api.request<ServiceDetail>('PATCH', svcPath(id), body);
    emit(ctx, data, () => `${message}\n${detailText(data)}`);
  };

  services
    .command('scale')
    .description('set the number of replicas')
    .argument('<service_id>')
    .argument('<replicas>', 'replicas', intOption('replicas', 1))
    .action(async (id: string, replicas: number, _o: unknown, cmd: Command) => patch(cmd, id, { replicas }));

  services
    .command('update')
    .description('change model version, resources, replicas or description (rolling update)')
    .argument('<service_id>')
    .option('--version <version>', 'model version')
    .option('--cpu <cores>', 'CPU cores', numberOption('--cpu'))
    .option('--memory <size>', 'memory: bytes or 512Mi, 2Gi', memoryOption)
    .option('--gpu <n>', 'GPUs', intOption('--gpu'))
    .option('--replicas <n>', 'replicas', intOption('--replicas', 1))
    .option('--description <text>', 'description')
    .action(async (id: string, o: { version?: string; cpu?: number; memory?: number; gpu?: number; replicas?: number; description?: string }, cmd: Command) => {
      const body = { model_version: o.version, cpu: o.cpu, memory: o.memory, gpu: o.gpu, replicas: o.replicas, description: o.description };
      if (Object.values(body).every((v) => v === undefined)) throw new UsageError('update needs at least one of --version, --cpu, --memory, --gpu, --replicas, --description');
      await patch(cmd, id, body);
    });

  for (const action of ['stop', 'start'] as const) {
    services
      .command(action)
      .description(action === 'stop' ? 'stop every replica (the service and its spec stay)' : 'start a stopped or failed service again')
      .argument('<service_id>')
      .option('--wait', action === 'start' ? 'follow the status until running or failed' : 'follow the status until every replica has stopped')
      .option('--timeout <seconds>', 'with --wait: give up after this long', intOption('--timeout', 1), 300)
      .action(async (id: string, o: { wait?: boolean; timeout: number }, cmd: Command) => {
        const ctx = await contextOf(cmd);
        const { message, data } = await ctx.api.request<ServiceDetail | undefined>('POST', `${svcPath(id)}/${action}`);
        if (o.wait) {
          (ctx.json ? process.stderr : process.stdout).write(`${message}\n`);
          return follow(ctx, id, o.timeout, action === 'start' ? 'running' : 'stopped');
        }
        emit(ctx, data ?? { service_id: id, message }, () => `${message}: ${id}\n`);
      });
  }

  services
    .command('delete')
    .description('delete a service and its replicas')
    .argument('<service_id>')
    .action(async (id: string, _o: unknown, cmd: Command) => {
      const ctx = await contextOf(cmd);
      await ctx.api.request('DELETE', svcPath(id));
      emit(ctx, { deleted: true, service_id: id }, () => `Deleted ${id}\n`);
    });

  services
    .command('predict')
    .description('classify an image and print the top classes')
    .argument('<service_id>')
    .requiredOption('--image <file>', 'PNG, JPEG or WebP image')
    .option('--top <n>', 'classes to show', intOption('--top', 1), 5)
    .action(async (id: string, o: { image: string; top: number }, cmd: Command) => {
      const ctx = await contextOf(cmd);
      let bytes: Buffer;
      try {
        bytes = await readFile(o.image);
      } catch (err) {
        throw new UsageError(`cannot read --image ${o.image}: ${(err as Error).message}`);
      }
      const { data } = await ctx.api.request<{ predictions: { class: string; confidence: number }[] }>('POST', `${svcPath(id)}/predict`, {
        inputs: { image: bytes.toString('base64') },
      });
      const top = [...data.predictions].sort((a, b) => b.confidence - a.confidence).slice(0, o.top);
      emit(ctx, data, () => renderTable(['class', 'confidence', ''], top.map((p) => [p.class, `${(p.confidence * 100).toFixed(1)}%`, '█'.repeat(Math.round(p.confidence * 20))])));
    });

  services
    .command('events')
    .description('the lifecycle history of a service')
    .argument('<service_id>')
    .action(async (id: string, _o: unknown, cmd: Command) => {
      const ctx = await contextOf(cmd);
      const { data } = await ctx.api.request<{ items: EventDto[] }>('GET', `${svcPath(id)}/events`);
      emit(ctx, data, () => renderTable(['at', 'type', 'status', 'reason', 'message'], data.items.map((e) => [shortTime(e.at), e.type, e.status, e.reason, e.message])));
    });

  services
    .command('logs')
    .description("the replicas' logs (--follow streams them as they are written)")
    .argument('<service_id>')
    .option('--replica <name>', 'only this replica')
    .option('--tail <n>', 'last n lines per replica', intOption('--tail', 0))
    .option('--since <time>', 'only lines after this time (RFC 3339, or a duration such as 10m)')
    .option('-f, --follow', 'keep streaming new lines (server-sent events) until interrupted')
    .action(async (id: string, o: { replica?: string; tail?: number; since?: string; follow?: boolean }, cmd: Command) => {
      const ctx = await contextOf(cmd);
      const q = new URLSearchParams();
      if (o.replica) q.set('replica', o.replica);
      if (o.tail !== undefined) q.set('tail', String(o.tail));
      if (o.since) q.set('since', o.since);
      if (o.follow) {
        q.set('follow', 'true');
        return followLogs(ctx, `${svcPath(id)}/logs?${q}`);
      }
      return printLogs(ctx, `${svcPath(id)}/logs?${q}`);
    });
}
