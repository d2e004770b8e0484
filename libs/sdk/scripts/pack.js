// `node libs/sdk/scripts/pack.js`: compiles the SDK with its type declarations into
// dist/packages/sdk and packs it as dist/packages/capstan-sdk-<version>.tgz (`npm i` that file).
//
// Why its own compile: the workspace build emits no declarations, and the package must carry
// the generated schema.d.ts (types only, which tsc does not copy) next to the compiled client.
'use strict';

const { execFileSync } = require('node:child_process');
const { cpSync, mkdirSync, rmSync } = require('node:fs');
const { join } = require('node:path');

const ROOT = join(__dirname, '..', '..', '..');
const SDK = join(ROOT, 'libs', 'sdk');
const STAGE = join(ROOT, 'dist', 'packages', 'sdk');
const OUT = join(ROOT, 'dist', 'packages');

execFileSync(process.execPath, [join(ROOT, 'scripts', 'generate-sdk.js')], { stdio: 'inherit' });
rmSync(STAGE, { recursive: true, force: true });
mkdirSync(STAGE, { recursive: true });
execFileSync(
  process.execPath,
  [
    require.resolve('typescript/bin/tsc'),
    ...['--rootDir', join(SDK, 'src'), '--outDir', join(STAGE, 'dist'), '--declaration', '--module', 'commonjs', '--target', 'es2022'],
    ...['--moduleResolution', 'node', '--strict', '--esModuleInterop', '--skipLibCheck', '--lib', 'es2022,dom', '--types', 'node'],
    join(SDK, 'src', 'index.ts'),
  ],
  { stdio: 'inherit' },
);
cpSync(join(SDK, 'src', 'generated', 'schema.d.ts'), join(STAGE, 'dist', 'generated', 'schema.d.ts'));
cpSync(join(SDK, 'src', 'generated', 'openapi.json'), join(STAGE, 'openapi.json'));
for (const file of ['package.json', 'README.md']) cpSync(join(SDK, file), join(STAGE, file));
const name = execFileSync('npm', ['pack', '--pack-destination', OUT], { cwd: STAGE, encoding: 'utf8' }).trim().split('\n').pop();
process.stdout.write(`${join(OUT, name)}\n`);
