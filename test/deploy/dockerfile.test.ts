import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { DockerfileParser, type Instruction } from 'dockerfile-ast';
import { validate } from 'dockerfile-utils';
import { describe, expect, it } from 'vitest';
import { ENTRY_POINTS } from './entry-points.js';

/**
 * The Dockerfile, checked without a Docker engine (none runs here): parsed by dockerfile-ast and linted by
 * dockerfile-utils (the parser and validator of the Docker language server), then held to what DESIGN §6 and issue 8
 * ask of it. Building the image needs a Docker host; this proves the file is well formed and says what it should.
 */

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const TEXT = readFileSync(path.join(ROOT, 'Dockerfile'), 'utf8');
const DOCKERFILE = DockerfileParser.parse(TEXT);
const DOCKERIGNORE = readFileSync(path.join(ROOT, '.dockerignore'), 'utf8')
  .split('\n')
  .map((line) => line.trim())
  .filter((line) => line && !line.startsWith('#'));


interface Stage {
  name: string;
  image: string;
  instructions: Instruction[];
}

/** Instructions grouped by the FROM that starts their stage; ARG defaults before the first FROM resolved. */
function stages(): Stage[] {
  const args = new Map(DOCKERFILE.getInitialARGs().map((arg) => [arg.getProperty()!.getName(), arg.getProperty()!.getValue() ?? '']));
  const froms = DOCKERFILE.getFROMs();
  return froms.map((from, i) => {
    const start = from.getRange().start.line;
    const end = i + 1 < froms.length ? froms[i + 1].getRange().start.line : Number.POSITIVE_INFINITY;
    const image = (from.getImage() ?? '').replace(/^\$\{(\w+)\}$/, (_m, name: string) => args.get(name) ?? '');
    return {
      name: from.getBuildStage() ?? `#${i}`,
      image,
      instructions: DOCKERFILE.getInstructions().filter((ins) => ins.getRange().start.line > start && ins.getRange().start.line < end),
    };
  });
}

function stage(name: string): Stage {
  const found = stages().find((s) => s.name === name);
  if (!found) throw new Error(`no stage "${name}" in the Dockerfile`);
  return found;
}

const LINES = TEXT.split('\n');
/** An instruction's arguments as written, flags (`--from=build`) included, continuation lines joined. */
function args(ins: Instruction): string {
  const { start, end } = ins.getRange();
  const text = LINES.slice(start.line, end.line + 1).join('\n').slice(start.character);
  return text.replace(/^\s*\w+/, '').replace(/\\\n/g, ' ').replace(/\s+/g, ' ').trim();
}
const of = (s: Stage, keyword: string) => s.instructions.filter((ins) => ins.getKeyword() === keyword);
/** The JSON (exec) form of CMD/ENTRYPOINT as an argv, or null for the shell form. */
function execForm(ins: Instruction): string[] | null {
  try {
    const value: unknown = JSON.parse(args(ins));
    return Array.isArray(value) && value.every((v) => typeof v === 'string') ? value : null;
  } catch {
    return null;
  }
}

function workspaces(): string[] {
  const globs = (JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { workspaces: string[] }).workspaces;
  return globs.flatMap((glob) => {
    const parent = glob.replace(/\/\*$/, '');
    return readdirSync(path.join(ROOT, parent), { withFileTypes: true })
      .filter((d) => d.isDirectory() && existsSync(path.join(ROOT, parent, d.name, 'package.json')))
      .map((d) => `${parent}/${d.name}`);
  });
}

describe('Dockerfile', () => {
  it('passes the Docker language server\'s validator (which does catch a broken file)', () => {
    expect(validate(TEXT).map((d) => `${d.range.start.line + 1}: ${d.message}`)).toEqual([]);
    expect(validate('FROM\nRUN\nCMD ["node",\n').length).toBeGreaterThan(0);
  });

  it('builds in a node:20-bookworm-slim stage with npm ci and the TypeScript build, then keeps production dependencies only', () => {
    const build = stage('build');
    expect(build.image).toBe('node:20-bookworm-slim');
    const runs = of(build, 'RUN').map(args).join('\n');
    expect(runs).toMatch(/npm ci\b/);
    expect(runs).toMatch(/npm run build/);
    expect(runs).toMatch(/npm prune --omit=dev/);
    // npm 10 ignores allowScripts: the CPU image must not fetch CUDA libraries.
    expect(of(build, 'ENV').map(args)).toContain('ONNXRUNTIME_NODE_INSTALL=skip');
  });

  it('copies every workspace manifest before npm ci, so the lock matches and the layer caches', () => {
    const build = stage('build');
    const ci = build.instructions.findIndex((ins) => ins.getKeyword() === 'RUN' && /npm ci\b/.test(args(ins)));
    const copied = build.instructions.slice(0, ci).filter((ins) => ins.getKeyword() === 'COPY').map(args);
    expect(copied).toContain('package.json package-lock.json ./');
    const expected = workspaces().map((dir) => `${dir}/package.json ${dir}/`);
    expect(expected.length).toBeGreaterThanOrEqual(10);
    // Besides the manifests, only a workspace's bin files may come early (npm ci links them): nothing else.
    const manifests = copied.filter((c) => c !== 'package.json package-lock.json ./' && !/^(\S+)\/bin \1\/bin$/.test(c));
    expect(manifests.sort()).toEqual(expected.sort());
  });

  it('ends in the CPU runtime stage (the default target) on node:20-bookworm-slim, and has a CUDA 12 + cuDNN 9 gpu target', () => {
    const all = stages();
    expect(all.at(-1)).toMatchObject({ name: 'runtime', image: 'node:20-bookworm-slim' });
    const gpu = stage('gpu');
    expect(gpu.image).toMatch(/^nvidia\/cuda:12\.\d+\.\d+-cudnn-runtime-ubuntu/);
    // cuDNN 9 is what the -cudnn tags of CUDA 12.4+ carry; onnxruntime's CUDA 12 build needs it.
    expect(Number(/^nvidia\/cuda:12\.(\d+)/.exec(gpu.image)![1])).toBeGreaterThanOrEqual(4);
    const install = of(gpu, 'RUN').map(args).find((run) => run.includes('script/install'));
    expect(install).toMatch(/ONNXRUNTIME_NODE_INSTALL=cuda12 node script\/install/);
    expect(install).toMatch(/test -f bin\/napi-v6\/linux\/x64\/libonnxruntime_providers_cuda\.so/);
    expect(of(gpu, 'COPY').map(args)).toContain('--from=node /usr/local/bin/node /usr/local/bin/node');
  });

  it.each(['runtime', 'gpu'])('%s: runs as a numeric non-root user, writes only /data, copies only the build output', (name) => {
    const s = stage(name);
    const user = of(s, 'USER').at(-1);
    expect(user, 'a USER instruction').toBeDefined();
    const [uid, gid] = args(user!).split(':');
    expect(uid).toMatch(/^\d+$/); // numeric: Kubernetes runAsNonRoot can check it
    expect(Number(uid)).toBeGreaterThan(0);
    expect(Number(gid ?? uid)).toBeGreaterThan(0);
    expect(of(s, 'ENV').map(args).join(' ')).toContain('RGPU_DATA_DIR=/data');
    expect(of(s, 'COPY').map(args)).toContain('--from=build /out/ ./');
    // Nothing from the build context goes into a runtime stage directly.
    expect(of(s, 'COPY').map(args).filter((c) => !c.startsWith('--from='))).toEqual([]);
  });

  it.each(['runtime', 'gpu'])('%s: tini as PID 1 and the gateway as the default command, in exec form, overridable', (name) => {
    const s = stage(name);
    expect(execForm(of(s, 'ENTRYPOINT').at(-1)!)).toEqual(['/usr/bin/tini', '--']);
    expect(execForm(of(s, 'CMD').at(-1)!)).toEqual(['node', 'services/gateway/dist/main.js']);
  });

  it('names entry points that the build produces (dist/main.js of each process)', () => {
    const missing = ENTRY_POINTS.filter((entry) => !existsSync(path.join(ROOT, entry)));
    expect(missing, 'entry points missing: run `npm run build` (npm test does) before this suite').toEqual([]);
    // The build emits each service's dist/ from its src/ (what the image's `npm run build` runs).
    for (const entry of ENTRY_POINTS) expect(existsSync(path.join(ROOT, entry.replace('/dist/main.js', '/src/main.ts'))), entry).toBe(true);
  });

  it('bakes no secret in: no secret-looking ENV or ARG, nothing secret or local in the build context', () => {
    const declared = DOCKERFILE.getInstructions()
      .filter((ins) => ins.getKeyword() === 'ENV' || ins.getKeyword() === 'ARG')
      .flatMap((ins) => (ins as unknown as { getProperties(): { getName(): string }[] }).getProperties().map((p) => p.getName()));
    expect(declared.filter((name) => /SECRET|PASSWORD|TOKEN|CREDENTIAL|PRIVATE|_KEY$/i.test(name))).toEqual([]);
    expect(TEXT).not.toMatch(/RGPU_JWT_SECRET\s*=|RGPU_ARTIFACT_SECRET\s*=|mongodb:\/\/[^\s]*:[^\s]*@/);
    for (const pattern of ['.env', '.env.*', 'data', '.git', '**/node_modules', '**/dist', '*.pem', '*.key']) {
      expect(DOCKERIGNORE, `.dockerignore excludes ${pattern}`).toContain(pattern);
    }
  });

  it('copies only paths that exist and that .dockerignore does not exclude', () => {
    const sources = stage('build')
      .instructions.filter((ins) => ins.getKeyword() === 'COPY' && !args(ins).startsWith('--from='))
      .flatMap((ins) => args(ins).split(/\s+/).slice(0, -1));
    expect(sources.length).toBeGreaterThan(10);
    for (const source of sources) {
      expect(existsSync(path.join(ROOT, source)), source).toBe(true);
      const excluded = DOCKERIGNORE.filter((p) => !p.startsWith('!') && (p === source || p === source.split('/')[0]));
      expect(excluded, `${source} is excluded by .dockerignore`).toEqual([]);
    }
  });
});
