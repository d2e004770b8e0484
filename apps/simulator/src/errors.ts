/**
 * Failures the simulated cloud answers with, each carrying the HTTP status a real cloud API would
 * use. Clients decide on retrying from the status alone: 5xx may succeed later, 4xx will not.
 */
export class SimulatorError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'SimulatorError';
  }
}

export const notFound = (message: string) => new SimulatorError(404, 'not_found', message);
export const conflict = (message: string) => new SimulatorError(409, 'conflict', message);
export const invalid = (message: string) => new SimulatorError(400, 'invalid_request', message);
export const unavailable = (message: string) => new SimulatorError(503, 'unavailable', message);
