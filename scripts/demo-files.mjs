#!/usr/bin/env node
// `npm run -s demo:files [-- DIR]`: writes what the README's curl walk-through uploads and sends, so it runs as
// written with nothing downloaded:
//   model.onnx  the demo colour classifier (input [N,3,32,32], output 3 classes: red, green, blue), built in memory
//   red.json    a predict body {"inputs":{"image":"<base64 PNG>"}} of a red 64×48 image (send it with -d @red.json:
//               an inline "$(base64 …)" breaks with "Argument list too long" for real images)
// DIR defaults to the directory npm was run from.
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { COLOR_LABELS, colorClassifierOnnx, solidImage } from '@remotegpu/testkit';

const dir = path.resolve(process.env.INIT_CWD ?? process.cwd(), process.argv[2] ?? '.');
await mkdir(dir, { recursive: true });
const model = path.join(dir, 'model.onnx');
const body = path.join(dir, 'red.json');
await writeFile(model, colorClassifierOnnx({ height: 32, width: 32 }));
const image = (await solidImage('red', { format: 'png', width: 64, height: 48 })).toString('base64');
await writeFile(body, JSON.stringify({ inputs: { image }, parameters: { top_k: 3 } }));
process.stderr.write(`wrote ${model} (labels ${JSON.stringify(COLOR_LABELS)}) and ${body}\n`);
