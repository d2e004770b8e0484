import { allRoutes, type RouteContract } from '@capstan/contracts';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { buildOpenApiDocument } from './openapi-document';
// Every contract registers its routes when loaded: load them all, as the API does.
import '@capstan/contracts';

const ROOT = join(__dirname, '..', '..', '..', '..');
const run = promisify(execFile);

interface LintProblem {
  ruleId: string;
  severity: 'error' | 'warn';
  message: string;
  location: { pointer: string }[];
}

function documentOf(routes: readonly RouteContract[]) {
  return buildOpenApiDocument(routes, { title: 'Capstan API', version: '0.0.0-test', description: 'lint' }, 'http://127.0.0.1:8080');
}

describe('the OpenAPI document', () => {
  let dir: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'capstan-openapi-'));
  });

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  /** `redocly lint` of the whole document, run in the temporary directory (no redocly.yaml there), with these extra arguments. */
  async function lint(...args: string[]): Promise<string[]> {
    const file = join(dir, 'openapi.json');
    await writeFile(file, JSON.stringify(documentOf(allRoutes())));
    const { stdout } = await run(join(ROOT, 'node_modules', '.bin', 'redocly'), ['lint', file, ...args, '--format', 'json'], {
      cwd: dir,
      env: { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true', NO_COLOR: '1' },
      maxBuffer: 16 * 1024 * 1024,
    }).catch((error: { stdout?: string }) => ({ stdout: error.stdout ?? '' }));
    const report = JSON.parse(stdout.slice(stdout.indexOf('{'))) as { problems: LintProblem[] };
    return report.problems.map((p) => `${p.severity} ${p.ruleId} at ${p.location[0]?.pointer}: ${p.message}`);
  }

  it('passes @redocly/cli lint with the repository config, without errors or warnings', async () => {
    expect(await lint('--config', join(ROOT, 'redocly.yaml'))).toEqual([]);
  }, 60_000);

  it('passes @redocly/cli lint with its default config too, as an outsider runs it', async () => {
    expect(await lint()).toEqual([]);
  }, 60_000);

  it('passes @redocly/cli lint with its recommended-strict preset, where every warning is an error', async () => {
    expect(await lint('--extends', 'recommended-strict')).toEqual([]);
  }, 60_000);

  it('declares every tag the routes use, with a description, and names a contact', () => {
    const document = documentOf(allRoutes());
    const used = new Set(
      Object.values(document.paths ?? {}).flatMap((item) => Object.values(item as Record<string, { tags?: string[] }>).flatMap((op) => op.tags ?? [])),
    );
    expect((document.tags ?? []).map((tag) => tag.name).sort()).toEqual([...used].sort());
    for (const tag of document.tags ?? []) expect(tag.description).toBeTruthy();
    expect(document.info.contact?.url).toBeTruthy();
    // A route whose tag API_TAGS does not describe is refused when the document is built.
    expect(() => documentOf([{ ...allRoutes()[0]!, tags: ['Undescribed'] }])).toThrow(/Undescribed/);
  });

  it('lists the statuses each route can answer, from what its contract makes possible', () => {
    const paths = documentOf(allRoutes()).paths as Record<string, Record<string, { responses: Record<string, unknown> }>>;
    const statuses = (method: string, path: string) => Object.keys(paths[path]![method]!.responses).sort();
    // A customer write with a body, path parameters, If-Match and a conflict rule.
    expect(statuses('patch', '/v1/clusters/{cluster_id}')).toEqual(
      expect.arrayContaining(['200', '400', '401', '403', '404', '412', '413', '414', '415', '429', '500']),
    );
    // If-Match is optional: a missing one is never a 428, so no route advertises it.
    for (const operations of Object.values(paths))
      for (const operation of Object.values(operations)) expect(Object.keys(operation.responses)).not.toContain('428');
    // An idempotent create: a key still in flight (409) or reused with another body (422).
    expect(statuses('post', '/v1/clusters')).toEqual(expect.arrayContaining(['202', '400', '409', '413', '415', '422', '429']));
    // Restricted metrics.
    expect(statuses('get', '/metrics')).toEqual(expect.arrayContaining(['200', '401', '403', '500']));
    for (const [path, operations] of Object.entries(paths)) {
      for (const [method, operation] of Object.entries(operations)) {
        expect({ route: `${method} ${path}`, has500: '500' in operation.responses }).toEqual({ route: `${method} ${path}`, has500: true });
      }
    }
  });
});
