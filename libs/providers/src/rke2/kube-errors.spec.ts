import { ApiException } from '@kubernetes/client-node';
import { ProviderError } from '../cluster-provider';
import { toProviderError } from './kube-errors';

const answer = (code: number, body: unknown) => new ApiException(code, 'Unsuccessful HTTP Request', body, {});
const status = (code: number, reason: string, message: string) => answer(code, { kind: 'Status', apiVersion: 'v1', status: 'Failure', code, reason, message });

describe('toProviderError', () => {
  it.each([
    [429, 'TooManyRequests', 'provider_throttled'],
    [500, 'InternalError', 'provider_unavailable'],
    [503, 'ServiceUnavailable', 'provider_unavailable'],
    [409, 'Conflict', 'provider_conflict'],
  ])('calls HTTP %i (%s) retryable', (code, reason, expected) => {
    const error = toProviderError(status(code, reason, 'try later'), 'creating the control plane of capstan-a');
    expect(error).toBeInstanceOf(ProviderError);
    expect({ retryable: error.retryable, code: error.code }).toEqual({ retryable: true, code: expected });
  });

  it.each([
    [422, 'Invalid', 'provider_invalid'],
    [400, 'BadRequest', 'provider_badrequest'],
    [401, 'Unauthorized', 'provider_forbidden'],
    [403, 'Forbidden', 'provider_forbidden'],
    [404, 'NotFound', 'provider_not_found'],
  ])('calls HTTP %i (%s) final', (code, reason, expected) => {
    const error = toProviderError(status(code, reason, 'nope'), 'creating the control plane of capstan-a');
    expect({ retryable: error.retryable, code: error.code }).toEqual({ retryable: false, code: expected });
  });

  it("says what was being done and passes on the API server's message, not its raw body", () => {
    const error = toProviderError(
      status(422, 'Invalid', 'RKE2ControlPlane.controlplane.cluster.x-k8s.io "capstan-a" is invalid: spec.version: Invalid value'),
      'upgrading the control plane of cluster capstan-a to 1.36.0',
    );
    expect(error.message).toBe(
      'the management cluster refused upgrading the control plane of cluster capstan-a to 1.36.0: RKE2ControlPlane.controlplane.cluster.x-k8s.io "capstan-a" is invalid: spec.version: Invalid value',
    );
    expect(error.message).not.toContain('HTTP-Code');
  });

  it('calls a refused or dropped connection and a timeout retryable', () => {
    const refused = Object.assign(new Error('request to https://10.0.0.1:6443 failed'), { name: 'FetchError', type: 'system', code: 'ECONNREFUSED' });
    expect(toProviderError(refused, 'reading cluster capstan-a')).toMatchObject({ retryable: true, code: 'provider_unavailable' });
    expect(toProviderError(refused, 'reading cluster capstan-a').message).toContain('ECONNREFUSED');
    const timeout = Object.assign(new Error('The operation was aborted due to timeout'), { name: 'TimeoutError' });
    expect(toProviderError(timeout, 'reading cluster capstan-a')).toMatchObject({ retryable: true, message: expect.stringContaining('timed out') });
  });

  it('calls anything else final instead of retrying it for half an hour', () => {
    expect(toProviderError(new Error('Unrecognized API version and kind: x/v1 Thing'), 'reading cluster capstan-a')).toMatchObject({
      retryable: false,
      code: 'provider_error',
    });
  });

  it('keeps a ProviderError as it is', () => {
    const original = new ProviderError('already said', true, 'x');
    expect(toProviderError(original, 'anything')).toBe(original);
  });
});
