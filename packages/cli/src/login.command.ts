import { createInterface } from 'node:readline/promises';
import type { Command } from 'commander';
import { ApiClient } from './api.client.js';
import { configPath, readConfig, writeConfig } from './config.store.js';
import { languageOf, UsageError, type GlobalOptions } from './context.js';

/**
 * `rgpu login`: checks the URL and token against the API (one authenticated list call, so a wrong token is
 * refused now, with the API's message, not at the next command) and stores them 0600. Without --token the token
 * is read from stdin (piped) or asked for on the terminal without echo, so it stays out of shell history.
 */
export function loginCommand(program: Command): void {
  program
    .command('login')
    .description('store the platform URL, a token (checked against the API) and --workspace as the default, mode 0600')
    .addHelpText('after', `\nThe file is $XDG_CONFIG_HOME/rgpu/config.json (default ~/.config/rgpu/config.json).\nRGPU_URL, RGPU_TOKEN and the --url/--token flags override it on every command.`)
    .action(async (_opts: unknown, cmd: Command) => {
      const opts = cmd.optsWithGlobals<GlobalOptions>();
      const path = configPath();
      const existing = await readConfig(path);
      const url = opts.url ?? process.env.RGPU_URL ?? existing.url;
      if (!url) throw new UsageError('login needs --url <url> (e.g. http://127.0.0.1:8080)');
      if (!/^https?:\/\/[^\s]+$/i.test(url)) throw new UsageError(`--url must be an http(s) URL, not "${url}"`);
      const token = opts.token ?? (await readToken());
      if (!token) throw new UsageError('login needs a token: --token <jwt>, on stdin, or typed at the prompt');
      const api = new ApiClient({ url, token, lang: languageOf(opts.lang, process.env) });
      await api.request('GET', '/inference/services?page=1&page_size=1');
      await writeConfig(path, { url: url.replace(/\/+$/, ''), token, workspace: opts.workspace ?? existing.workspace });
      if (opts.json) process.stdout.write(JSON.stringify({ url, config: path }) + '\n');
      else process.stdout.write(`Logged in to ${url}; saved to ${path}\n`);
    });
}

async function readToken(): Promise<string> {
  if (!process.stdin.isTTY) {
    const chunks: Buffer[] = [];
    for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks).toString('utf8').trim();
  }
  process.stderr.write('Token: ');
  // terminal: true puts the tty in raw mode and readline echoes only to `output`; with none, the token is not shown.
  const rl = createInterface({ input: process.stdin, terminal: true });
  try {
    return (await rl.question('')).trim();
  } finally {
    rl.close();
    process.stderr.write('\n');
  }
}
