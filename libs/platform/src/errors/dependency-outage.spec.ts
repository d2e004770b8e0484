import { isPoolExhausted, OutageLog, unreachableCall, unreachableDependency } from './dependency-outage';
import { toProblem } from './problem';

const withCode = (message: string, code: string) => Object.assign(new Error(message), { code });

describe('which errors are dependency outages', () => {
  it.each([
    ['a refused socket', withCode('connect ECONNREFUSED 10.0.0.5:5432', 'ECONNREFUSED'), 'postgres'],
    ['pg losing its connection', new Error('Connection terminated unexpectedly'), 'postgres'],
    ['a new connection not opened in time', new Error('Connection terminated due to connection timeout'), 'postgres'],
    ['Postgres shutting down', withCode('terminating connection due to administrator command', '57P01'), 'postgres'],
    ['a connection-class SQLSTATE', withCode('connection failure', '08006'), 'postgres'],
    ['Prisma unable to reach the server', withCode("Can't reach database server", 'P1001'), 'postgres'],
    ['a wrapped driver error', new Error('query failed', { cause: withCode('read ECONNRESET', 'ECONNRESET') }), 'postgres'],
    ['ioredis giving up', Object.assign(new Error('Reached the max retries per request limit (which is 3).'), { name: 'MaxRetriesPerRequestError' }), 'redis'],
    ['ioredis closed', new Error('Connection is closed.'), 'redis'],
  ])('%s is an outage of %s', (_, error, dependency) => {
    expect(unreachableDependency(error)).toBe(dependency);
  });

  it.each([
    ['the simulated cloud', 'simulated-cloud', 'the simulated cloud'],
    ['the GKE API', 'gke', 'the GKE API'],
    ['the management cluster', 'management-cluster', 'the management cluster'],
  ] as const)('a refused call to %s is an outage of it, not of Postgres, and is named so without its host', (_, dependency, named) => {
    // What a provider client throws: the socket's message (which reads like pg's) and its mark.
    const refused = Object.assign(new Error('simulated cloud unreachable: GET /v1/chaos/faults: connect ECONNREFUSED 10.1.2.3:8090'), {
      code: 'unavailable',
      unreachable: { dependency, host: 'cloud.internal:8090' },
    });
    const wrapped = new Error('listing faults failed', { cause: refused });
    expect(unreachableDependency(refused)).toBe(dependency);
    expect(unreachableDependency(wrapped)).toBe(dependency);
    expect(unreachableCall(wrapped)).toEqual({ dependency, host: 'cloud.internal:8090' });
    const { status, problem, dependency: recorded, retryAfter } = toProblem(wrapped, '/admin/v1/simulator/faults', 'req_1');
    expect({ status, recorded, retryAfter }).toEqual({ status: 503, recorded: dependency, retryAfter: 5 });
    expect(problem).toMatchObject({ type: 'https://capstan.dev/problems/dependency-unavailable', detail: `${named} is unreachable; retry in 5 s` });
    expect(JSON.stringify(problem)).not.toMatch(/cloud\.internal|10\.1\.2\.3|database/);
  });

  it('ignores a mark that names no dependency it knows', () => {
    expect(unreachableCall(Object.assign(new Error('x'), { unreachable: { dependency: 'mainframe' } }))).toBeUndefined();
  });

  it('logs the host of a dependency called over HTTP, and keeps each outage apart', () => {
    const log = new OutageLog();
    const warn = jest.spyOn((log as unknown as { logger: { warn: () => void } }).logger, 'warn').mockImplementation(() => undefined);
    jest.spyOn((log as unknown as { logger: { log: () => void } }).logger, 'log').mockImplementation(() => undefined);
    log.failed('simulated-cloud', Object.assign(new Error('refused'), { unreachable: { dependency: 'simulated-cloud', host: 'sim.internal:8090' } }));
    expect(warn).toHaveBeenCalledWith(expect.objectContaining({ dependency: 'simulated-cloud', host: 'sim.internal:8090' }), expect.any(String));
    expect(log.isDown('simulated-cloud')).toBe(true);
    expect(log.isDown('postgres')).toBe(false);
    log.succeeded('simulated-cloud');
    expect(log.isDown('simulated-cloud')).toBe(false);
  });

  it.each([
    ['a unique violation', withCode('duplicate key value violates unique constraint', '23505')],
    ['an invalid text', withCode('invalid byte sequence for encoding "UTF8": 0x00', '22021')],
    ['a bug', new TypeError("Cannot read properties of undefined (reading 'id')")],
    ['not an error at all', 'oops'],
    ['a full pool (every connection in use)', new Error('timeout exceeded when trying to connect')],
  ])('%s is not', (_, error) => {
    expect(unreachableDependency(error)).toBeUndefined();
  });

  it('answers a full pool 503 server-busy with a short retry, without declaring Postgres down', () => {
    const full = new Error('query failed', { cause: new Error('timeout exceeded when trying to connect') });
    expect(isPoolExhausted(full)).toBe(true);
    expect(isPoolExhausted(new Error('Connection terminated due to connection timeout'))).toBe(false);
    const { status, problem, dependency, retryAfter } = toProblem(full, '/v1/clusters', 'req_1');
    expect({ status, dependency, retryAfter }).toEqual({ status: 503, dependency: undefined, retryAfter: 1 });
    expect(problem).toMatchObject({ type: 'https://capstan.dev/problems/server-busy', retry_after: 1 });
  });

  it('is answered 503 with retry_after and no driver detail', () => {
    const { status, problem, unexpected } = toProblem(withCode('connect ECONNREFUSED db.internal:5432', 'ECONNREFUSED'), '/v1/clusters', 'req_1');
    expect({ status, unexpected }).toEqual({ status: 503, unexpected: false });
    expect(toProblem(withCode('connect ECONNREFUSED db.internal:5432', 'ECONNREFUSED')).retryAfter).toBe(5);
    expect(problem).toMatchObject({ type: 'https://capstan.dev/problems/dependency-unavailable', retry_after: 5 });
    expect(JSON.stringify(problem)).not.toContain('db.internal');
  });

  it('logs an outage once when it begins and once when it ends', () => {
    const log = new OutageLog();
    const warn = jest.spyOn((log as unknown as { logger: { warn: () => void } }).logger, 'warn').mockImplementation(() => undefined);
    const info = jest.spyOn((log as unknown as { logger: { log: () => void } }).logger, 'log').mockImplementation(() => undefined);
    for (let i = 0; i < 100; i++) log.failed('postgres', new Error('down'));
    expect(warn).toHaveBeenCalledTimes(1);
    expect(log.isDown('postgres')).toBe(true);
    for (let i = 0; i < 10; i++) log.succeeded('postgres');
    expect(info).toHaveBeenCalledTimes(1);
    expect(log.isDown('postgres')).toBe(false);
  });
});
