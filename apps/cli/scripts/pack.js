// `node apps/cli/scripts/pack.js` (after `npm run build`): writes capstan-cli-<version>.tgz into
// dist/packages/, installable with `npm i -g dist/packages/capstan-cli-<version>.tgz`.
//
// Why a staging directory: the build keeps the workspace layout (dist/apps/cli requires
// ../../../libs/sdk after tsc-alias), so the package carries both trees under the same relative
// paths, next to apps/cli/package.json (which names only the CLI's own runtime dependencies).
'use strict';

const { execFileSync } = require('node:child_process');
const { cpSync, existsSync, mkdirSync, rmSync } = require('node:fs');
const { join } = require('node:path');

const ROOT = join(__dirname, '..', '..', '..');
const STAGE = join(ROOT, 'dist', 'packages', 'cli');
const OUT = join(ROOT, 'dist', 'packages');

for (const tree of ['dist/apps/cli/src', 'dist/libs/sdk/src']) {
  if (!existsSync(join(ROOT, tree))) throw new Error(`${tree} is missing: run npm run build first`);
}
rmSync(STAGE, { recursive: true, force: true });
mkdirSync(STAGE, { recursive: true });
cpSync(join(ROOT, 'apps', 'cli', 'package.json'), join(STAGE, 'package.json'));
cpSync(join(ROOT, 'apps', 'cli', 'README.md'), join(STAGE, 'README.md'));
for (const tree of ['dist/apps/cli/src', 'dist/libs/sdk/src']) {
  cpSync(join(ROOT, tree), join(STAGE, tree), { recursive: true, filter: (path) => !path.endsWith('.map') });
}
const name = execFileSync('npm', ['pack', '--pack-destination', OUT], { cwd: STAGE, encoding: 'utf8' }).trim().split('\n').pop();
process.stdout.write(`${join(OUT, name)}\n`);
