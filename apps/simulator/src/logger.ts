/** The slice of a pino logger the simulator uses, so the launcher can hand it its own. */
export interface SimulatorLogger {
  info(fields: object, message: string): void;
  warn(fields: object, message: string): void;
  error(fields: object, message: string): void;
}

export const silentLogger: SimulatorLogger = {
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
};
