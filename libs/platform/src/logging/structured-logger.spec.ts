import { Controller, Get, Logger, Module } from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import { ClsService, ClsServiceManager } from 'nestjs-cls';
import { LogConfig, loadConfig } from '../config/config';
import { createHttpApp } from '../http/create-http-app';
import { MetricsModule } from '../metrics/metrics';
import { LoggingModule } from './logging.module';

const SECRET = `cap_${'s'.repeat(43)}`;

interface Line {
  msg?: string;
  level: number;
  context?: string;
  service?: string;
  req?: { id: string; method: string; url: string };
  res?: { statusCode: number; headers: Record<string, unknown> };
  err?: { message: string };
  token?: string;
  responseTime?: number;
}

@Controller()
class ProbeController {
  private readonly logger = new Logger('Probe');

  @Get('/v1/things/:id')
  async thing() {
    // After an await, as a use case logs: the request's context must survive it.
    await new Promise((resolve) => setImmediate(resolve));
    this.logger.warn({ token: SECRET, step: 'read' }, 'looked the thing up');
    return { ok: true };
  }

  @Get('/v1/broken')
  broken() {
    throw new Error('the database fell over');
  }

  @Get('/healthz')
  health() {
    return { status: 'ok' };
  }
}

describe('structured logs of an HTTP process', () => {
  const written: string[] = [];
  let app: NestFastifyApplication;
  const lines = () => written.flatMap((chunk) => chunk.split('\n')).filter(Boolean);
  const parsed = () => lines().map((line) => JSON.parse(line) as Line);

  beforeAll(async () => {
    const destination = new Writable({
      write(chunk: Buffer, _encoding, callback) {
        written.push(chunk.toString('utf8'));
        callback();
      },
    });
    const config = loadConfig({
      NODE_ENV: 'test',
      LOG_LEVEL: 'info',
      DATABASE_URL: 'postgresql://postgres@127.0.0.1:5432/unused',
      REDIS_URL: 'redis://127.0.0.1:6379',
      SECRETS_KEYS: `test:${randomBytes(32).toString('base64')}`,
    });
    @Module({
      imports: [LoggingModule.forRoot(new LogConfig('info', false), 'probe', destination), MetricsModule],
      providers: [{ provide: ClsService, useValue: ClsServiceManager.getClsService() }],
      controllers: [ProbeController],
    })
    class ProbeModule {}
    app = await createHttpApp(ProbeModule, config, 'probe');
    // Nest buffers its logs until the app listens; these requests are injected instead.
    app.flushLogs();
  });

  afterAll(async () => {
    await app?.close();
  });

  beforeEach(() => {
    written.length = 0;
  });

  it("gives a request's own lines and its access line the request's id, method and URL", async () => {
    const answer = await app.inject({ method: 'GET', url: '/v1/things/t1?x=1', headers: { authorization: `Bearer ${SECRET}`, 'x-request-id': 'trace-42' } });
    expect(answer.statusCode).toBe(200);
    const own = parsed().find((line) => line.msg === 'looked the thing up');
    expect(own).toMatchObject({ context: 'Probe', service: 'probe', req: { id: 'trace-42', method: 'GET', url: '/v1/things/t1?x=1' } });
    const access = parsed().find((line) => line.msg === 'request completed');
    expect(access).toMatchObject({ req: { id: 'trace-42', method: 'GET', url: '/v1/things/t1?x=1' }, res: { statusCode: 200 } });
    expect(access!.res!.headers['x-request-id']).toBe('trace-42');
    expect(access!.responseTime).toEqual(expect.any(Number));
  });

  it('never writes a credential: logged tokens are redacted and request headers are left out', async () => {
    await app.inject({ method: 'GET', url: '/v1/things/t2', headers: { authorization: `Bearer ${SECRET}` } });
    expect(lines().length).toBeGreaterThanOrEqual(2);
    expect(parsed().find((line) => line.msg === 'looked the thing up')!.token).toBe('[redacted]');
    expect(written.join('')).not.toContain(SECRET);
  });

  it('logs an unexpected error with its request, and its access line as errored', async () => {
    const answer = await app.inject({ method: 'GET', url: '/v1/broken', headers: { 'x-request-id': 'trace-500' } });
    expect(answer.statusCode).toBe(500);
    const unhandled = parsed().find((line) => line.msg === 'unhandled error');
    expect(unhandled).toMatchObject({ level: 50, req: { id: 'trace-500' }, err: { message: 'the database fell over' } });
    expect(parsed().find((line) => line.msg === 'request errored')).toMatchObject({ req: { id: 'trace-500' }, res: { statusCode: 500 } });
  });

  it('does not log probes, and lines outside any request carry none', async () => {
    expect((await app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
    expect(lines()).toEqual([]);
    new Logger('Boot').log('between requests');
    expect(parsed()).toEqual([expect.objectContaining({ msg: 'between requests', context: 'Boot' })]);
    expect(parsed()[0]!.req).toBeUndefined();
  });
});
