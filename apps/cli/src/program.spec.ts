import { EventEmitter } from 'node:events';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { freePort } from '@capstan/testing';
import { parse } from 'yaml';
import { configPath, readConfig, resolveContext, writeConfig } from './config';
import { EXIT, problemError } from './errors';
import { fieldRows, printOne } from './output';
import { instantOption, mergeKubeconfig, parseNodePool, run, stepError } from './program';
import { watchOperation } from './progress';

function sink(): Writable & { text: string } {
  const stream = new Writable({
    write(chunk, _encoding, done) {
      stream.text += String(chunk);
      done();
    },
  }) as Writable & { text: string };
  stream.text = '';
  return stream;
}

describe('--node-pool', () => {
  it('reads the documented form, dashes as underscores and numbers as numbers', () => {
    expect(parseNodePool('name=default,machine-type=nine-standard-4,count=3')).toEqual({ name: 'default', machine_type: 'nine-standard-4', count: 3 });
    expect(parseNodePool('name=a,machine-type=m,min=1,max=5,max-surge=2')).toEqual({
      name: 'a',
      machine_type: 'm',
      autoscaling: { min: 1, max: 5 },
      max_surge: 2,
    });
  });

  it.each([['name=a,count=3'], ['name=a,machine-type=m,count=three'], ['name=a,machine-type=m,colour=red'], ['name=a,machine-type']])(
    'refuses %s as a usage error',
    (value) => {
      expect(() => parseNodePool(value)).toThrow(expect.objectContaining({ exitCode: EXIT.usage }));
    },
  );
});

describe('kubeconfig merge', () => {
  const existing =
    'apiVersion: v1\nkind: Config\nclusters:\n  - name: other\n    cluster: { server: https://other }\n  - name: demo\n    cluster: { server: https://old }\nusers:\n  - name: other\n    user: { token: t }\ncontexts:\n  - name: other\n    context: { cluster: other, user: other }\ncurrent-context: other\n';
  const added =
    'apiVersion: v1\nkind: Config\nclusters:\n  - name: demo\n    cluster: { server: https://new }\nusers:\n  - name: demo-admin\n    user: { token: n }\ncontexts:\n  - name: demo\n    context: { cluster: demo, user: demo-admin }\ncurrent-context: demo\n';

  it('keeps the other entries, replaces same-named ones and switches context', () => {
    const merged = parse(mergeKubeconfig(existing, added, true));
    expect(merged.clusters.map((c: { name: string; cluster: { server: string } }) => `${c.name}=${c.cluster.server}`)).toEqual([
      'other=https://other',
      'demo=https://new',
    ]);
    expect(merged.users.map((u: { name: string }) => u.name)).toEqual(['other', 'demo-admin']);
    expect(merged['current-context']).toBe('demo');
  });

  it('leaves current-context alone with --no-switch', () => {
    expect(parse(mergeKubeconfig(existing, added, false))['current-context']).toBe('other');
  });
});

describe('contexts', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'capstan-config-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('lives under XDG_CONFIG_HOME, readable by its owner only', () => {
    const env = { XDG_CONFIG_HOME: dir };
    writeConfig({ current: 'a', contexts: { a: { url: 'http://a', token: 'cap_a' } } }, configPath(env));
    expect(configPath(env)).toBe(join(dir, 'capstan', 'config.json'));
    expect(statSync(configPath(env)).mode & 0o777).toBe(0o600);
    expect(readConfig(configPath(env)).current).toBe('a');
  });

  it('takes CAPSTAN_URL and CAPSTAN_TOKEN over the file, the current context otherwise, --context over that', () => {
    const env = { XDG_CONFIG_HOME: dir };
    writeConfig({ current: 'a', contexts: { a: { url: 'http://a/', token: 'cap_a' }, b: { url: 'http://b', token: 'cap_b' } } }, configPath(env));
    expect(resolveContext(undefined, env)).toEqual({ url: 'http://a', token: 'cap_a' });
    expect(resolveContext('b', env)).toEqual({ url: 'http://b', token: 'cap_b' });
    expect(resolveContext('b', { ...env, CAPSTAN_URL: 'http://env', CAPSTAN_TOKEN: 'cap_env' })).toEqual({ url: 'http://env', token: 'cap_env' });
    expect(() => resolveContext('c', env)).toThrow(expect.objectContaining({ exitCode: EXIT.usage }));
  });

  it('without any, says how to log in and exits 3', async () => {
    const stderr = sink();
    const code = await run(['node', 'capstan', 'clusters', 'list'], { env: { XDG_CONFIG_HOME: dir }, stdout: sink(), stderr });
    expect(code).toBe(EXIT.auth);
    expect(stderr.text).toContain('capstan login');
  });
});

describe('exit codes for the command line itself', () => {
  it('2 for an unknown command or a bad --output, 0 for --help', async () => {
    const io = () => ({ env: {}, stdout: sink(), stderr: sink() });
    expect(await run(['node', 'capstan', 'clusterz'], io())).toBe(EXIT.usage);
    expect(await run(['node', 'capstan', '-o', 'xml', 'clusters', 'list'], io())).toBe(EXIT.usage);
    expect(await run(['node', 'capstan', '--help'], io())).toBe(EXIT.ok);
  });

  it("leaves --version after a command to that command's option: clusters create --version asks the API, capstan --version prints the CLI's", async () => {
    const closed = await freePort();
    const env = { CAPSTAN_URL: `http://127.0.0.1:${closed}`, CAPSTAN_TOKEN: 'cap_x' };
    const stdout = sink();
    const create = [
      'clusters',
      'create',
      'x',
      '--provider',
      'rke2',
      '--region',
      'nine-cz41',
      '--version',
      '1.35',
      '--node-pool',
      'name=a,machine-type=m,count=1',
    ];
    // Exit 7: it went for the API with the version, rather than printing its own and exiting 0.
    expect(await run(['node', 'capstan', ...create], { env, stdout, stderr: sink() })).toBe(EXIT.unreachable);
    expect(await run(['node', 'capstan', 'clusters', 'upgrade', 'cl_x', '--version', '1.36'], { env, stdout, stderr: sink() })).toBe(EXIT.unreachable);
    expect(stdout.text).toBe('');
    const version = sink();
    expect(await run(['node', 'capstan', '--version'], { env, stdout: version, stderr: sink() })).toBe(EXIT.ok);
    expect(version.text).toMatch(/^\d+\.\d+\.\d+\n$/);
  });

  it('7 when the API cannot be reached', async () => {
    const stderr = sink();
    const closed = await freePort(); // nothing listens there now
    const code = await run(['node', 'capstan', 'clusters', 'list'], {
      env: { CAPSTAN_URL: `http://127.0.0.1:${closed}`, CAPSTAN_TOKEN: 'cap_x' },
      stdout: sink(),
      stderr,
    });
    expect(code).toBe(EXIT.unreachable);
    expect(stderr.text).toContain('ECONNREFUSED');
  });
});

describe('numbers on the command line', () => {
  const closedApi = async () => ({ CAPSTAN_URL: `http://127.0.0.1:${await freePort()}`, CAPSTAN_TOKEN: 'cap_x' });

  it('refuses a count, limit or interval that is not a number before calling the API (exit 2, not a 400 about null)', async () => {
    const env = await closedApi();
    for (const args of [
      ['node-pools', 'update', 'cl_x', 'np_x', '--count', 'abc'],
      ['clusters', 'list', '--limit', 'ten'],
      ['operations', 'watch', 'op_x', '--interval', 'soon'],
      ['clusters', 'delete', 'cl_x', '--wait', '--interval', 'NaN'],
    ]) {
      const stderr = sink();
      expect(await run(['node', 'capstan', ...args], { env, stdout: sink(), stderr })).toBe(EXIT.usage);
      expect(stderr.text).toMatch(/expected a (whole )?number/);
    }
  });

  it('shows the --wait defaults in seconds, the unit the options take', async () => {
    const stdout = sink();
    await run(['node', 'capstan', 'clusters', 'create', '--help'], { env: {}, stdout, stderr: sink() });
    const help = stdout.text.replace(/\s+/g, ' ');
    expect(help).toContain('(default: 1800)');
    expect(help).toMatch(/--interval <seconds> with --wait: how often to ask \(default: 1\)/);
    expect(help).not.toContain('1800000');
  });
});

describe('--since and --until', () => {
  const now = () => new Date('2026-12-06T08:00:00.000Z');
  const since = instantOption('--since', now);

  it('takes a time ago in minutes, hours or days, and an RFC 3339 instant in any offset, as UTC', () => {
    expect(since('90m')).toBe('2026-12-06T06:30:00.000Z');
    expect(since('24h')).toBe('2026-12-05T08:00:00.000Z');
    expect(since('7d')).toBe('2026-11-29T08:00:00.000Z');
    expect(since('2026-12-05T09:30:00+01:00')).toBe('2026-12-05T08:30:00.000Z');
    expect(since('2026-12-05T08:30Z')).toBe('2026-12-05T08:30:00.000Z');
  });

  it('refuses words, dates without a time and impossible instants as usage errors (exit 2)', () => {
    for (const value of ['yesterday', '2026-12-05', '24', '1w', '2026-13-40T00:00:00Z']) {
      expect(() => since(value)).toThrow(expect.objectContaining({ exitCode: EXIT.usage }));
    }
  });
});

describe('tables of one object', () => {
  it('shows nested objects as dotted fields and lists of objects as a count, never a JSON blob', () => {
    const out = sink();
    printOne(
      'table',
      {
        id: 'op_1',
        error_budget: { total_minutes: 223.2, used_minutes: 0 },
        steps: [{ name: 'a', status: 'succeeded' }],
        scopes: ['read', 'write'],
        labels: {},
      },
      out,
    );
    expect(out.text).not.toContain('{');
    expect(fieldRows({ error_budget: { total_minutes: 223.2 }, steps: [{ name: 'a' }, { name: 'b' }], scopes: ['read', 'write'] })).toEqual([
      ['error_budget.total_minutes', 223.2],
      ['steps', '2 entries (-o json or -o yaml shows them)'],
      ['scopes', 'read, write'],
    ]);
    const json = sink();
    printOne('json', { error_budget: { total_minutes: 1 } }, json);
    expect(JSON.parse(json.text)).toEqual({ error_budget: { total_minutes: 1 } });
  });
});

describe('problems as the CLI prints them', () => {
  it('prints a validation problem’s field errors once, not again in its detail', () => {
    const error = problemError(400, {
      title: 'The request is not valid',
      detail: 'cluster_id: must be an id starting with cl_',
      errors: [{ field: 'cluster_id', message: 'must be an id starting with cl_' }],
      request_id: 'req_1',
    } as never);
    expect(error.message.match(/must be an id/g)).toHaveLength(1);
    expect(error.message).toContain('request id: req_1');
    expect(problemError(404, { title: 'Not found', detail: 'cluster cl_x does not exist' } as never).message).toBe(
      'Not found (404): cluster cl_x does not exist',
    );
  });
});

describe('Ctrl-C while --wait follows an operation', () => {
  it('stops waiting with exit 130 and says the operation goes on and how to follow it again', async () => {
    const running = {
      id: 'op_1',
      status: 'running',
      progress: 40,
      steps: [
        { name: 'create_pool', status: 'succeeded', started_at: '2026-01-01T00:00:00Z', finished_at: '2026-01-01T00:00:01Z' },
        { name: 'wait_nodes_ready', status: 'running', started_at: '2026-01-01T00:00:01Z', finished_at: null },
      ],
    };
    let polls = 0;
    const client = {
      GET: async () => {
        polls += 1;
        return { data: running, error: undefined, response: new Response(null, { status: 200 }) };
      },
    };
    const signals = new EventEmitter();
    const watching = watchOperation(client as never, 'op_1', { intervalMs: 60_000, timeoutMs: 600_000, stream: sink(), signals: signals as never });
    // Interrupt during the minute-long pause after the first poll: the wait ends at once.
    while (polls === 0) await new Promise((resolve) => setImmediate(resolve));
    signals.emit('SIGINT');
    await expect(watching).rejects.toMatchObject({ exitCode: EXIT.interrupted, message: expect.stringContaining('capstan operations watch op_1') });
    expect(signals.listenerCount('SIGINT')).toBe(0);
    expect(polls).toBe(1);
  });
});

describe('--wait through a restarting API', () => {
  it('keeps polling through dropped connections, 502/503 and 429 until the operation finishes', async () => {
    const done = { id: 'op_1', status: 'succeeded', progress: 100, steps: [] };
    const answers: (() => unknown)[] = [
      () => {
        throw new TypeError('fetch failed', { cause: { code: 'ECONNREFUSED' } });
      },
      () => ({ data: undefined, error: { title: 'Service unavailable' }, response: new Response(null, { status: 503 }) }),
      () => ({ data: undefined, error: undefined, response: new Response(null, { status: 502 }) }),
      () => ({ data: undefined, error: { title: 'Too many requests' }, response: new Response(null, { status: 429 }) }),
      () => ({ data: done, error: undefined, response: new Response(null, { status: 200 }) }),
    ];
    const client = { GET: async () => answers.shift()!() };
    const progress = sink();
    const finished = await watchOperation(client as never, 'op_1', {
      intervalMs: 1,
      timeoutMs: 600_000,
      stream: progress,
      signals: new EventEmitter() as never,
    });
    expect(finished.status).toBe('succeeded');
    expect(answers).toHaveLength(0);
  });

  it('still stops at once on an answer that will not change by waiting (404)', async () => {
    const client = { GET: async () => ({ data: undefined, error: { title: 'Not found' }, response: new Response(null, { status: 404 }) }) };
    await expect(
      watchOperation(client as never, 'op_1', { intervalMs: 1, timeoutMs: 600_000, stream: sink(), signals: new EventEmitter() as never }),
    ).rejects.toMatchObject({ exitCode: EXIT.notFound });
  });

  it('gives up with exit 6 when the API stays away past --timeout', async () => {
    const client = { GET: async () => ({ data: undefined, error: undefined, response: new Response(null, { status: 503 }) }) };
    await expect(
      watchOperation(client as never, 'op_1', { intervalMs: 1, timeoutMs: 20, stream: sink(), signals: new EventEmitter() as never }),
    ).rejects.toMatchObject({ exitCode: EXIT.timeout });
  });
});

describe("a step's error in the steps table", () => {
  it('says an error on a step that succeeded was an earlier, retried attempt', () => {
    const error = { code: 'provider_unavailable', message: 'Cluster is running incompatible operation' };
    expect(stepError({ status: 'succeeded', error })).toBe('retried after: Cluster is running incompatible operation');
    expect(stepError({ status: 'failed', error })).toBe('Cluster is running incompatible operation');
    expect(stepError({ status: 'succeeded', error: null })).toBeUndefined();
  });
});
