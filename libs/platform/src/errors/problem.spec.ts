import { ConflictError, NotFoundError, ValidationError } from '@capstan/domain';
import { NotFoundException } from '@nestjs/common';
import { PROBLEM_TYPE_BASE, toProblem } from './problem';

describe('toProblem', () => {
  it('maps a domain error to its status and stable type, with its extensions', () => {
    const { status, problem } = toProblem(
      new ConflictError('cluster-busy', 'cluster is upgrading; operation op_1 is running', { operation_id: 'op_1' }),
      '/v1/clusters/cl_1',
      'req_1',
    );
    expect(status).toBe(409);
    expect(problem).toMatchObject({
      type: `${PROBLEM_TYPE_BASE}cluster-busy`,
      status: 409,
      detail: 'cluster is upgrading; operation op_1 is running',
      operation_id: 'op_1',
      instance: '/v1/clusters/cl_1',
      request_id: 'req_1',
    });
  });

  it('lists every field violation of a validation error', () => {
    const { status, problem } = toProblem(new ValidationError([{ field: 'name', message: 'must be a DNS-1123 label' }]));
    expect(status).toBe(400);
    expect(problem.errors).toEqual([{ field: 'name', message: 'must be a DNS-1123 label' }]);
  });

  it('does not let an extension overwrite the standard members', () => {
    class Sneaky extends NotFoundError {
      constructor() {
        super('cluster', 'cl_1');
        Object.assign(this.extensions, { status: 200, type: 'x' });
      }
    }
    const { problem } = toProblem(new Sneaky());
    expect(problem.status).toBe(404);
    expect(problem.type).toBe(`${PROBLEM_TYPE_BASE}not-found`);
  });

  it('keeps framework client errors as 4xx problems', () => {
    expect(toProblem(new NotFoundException('Cannot GET /x')).status).toBe(404);
    const tooLarge = Object.assign(new Error('Request body is too large'), { statusCode: 413, code: 'FST_ERR_CTP_BODY_TOO_LARGE' });
    expect(toProblem(tooLarge).problem).toMatchObject({ status: 413, detail: 'the request body exceeds the size limit' });
  });

  it('hides the message of an unknown error', () => {
    const { status, problem, unexpected } = toProblem(new Error('relation "clusters" does not exist at 10.0.0.5'));
    expect(status).toBe(500);
    expect(unexpected).toBe(true);
    expect(JSON.stringify(problem)).not.toContain('relation');
    expect(JSON.stringify(problem)).not.toContain('10.0.0.5');
  });
});
