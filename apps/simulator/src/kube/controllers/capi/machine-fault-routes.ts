import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { MACHINE_FAULT_KINDS, type MachineFaults } from './machine-faults';

const dnsLabel = z.string().regex(/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/, 'must be a DNS-1123 label (lower-case letters, digits and dashes)');

const machineFaultSpec = z
  .object({
    kind: z.enum(MACHINE_FAULT_KINDS),
    cluster: dnsLabel.optional(),
    factor: z.number().int().min(1).max(1000).optional(),
  })
  .strict()
  .refine((spec) => spec.factor === undefined || spec.kind === 'slow_rollout', { message: 'factor applies to slow_rollout only', path: ['factor'] });

/**
 * `/v1/chaos/machine-faults`: the operator's hand in the emulated management cluster, beside the
 * simulator's other chaos routes (same error handling: a zod failure is a 400 with the reason).
 */
export function registerMachineFaultRoutes(app: FastifyInstance, faults: MachineFaults): void {
  app.post('/v1/chaos/machine-faults', async (request, reply) => reply.code(201).send(await faults.add(machineFaultSpec.parse(request.body))));
  app.get('/v1/chaos/machine-faults', async () => ({ items: await faults.list() }));
  app.delete('/v1/chaos/machine-faults', async (_request, reply) => {
    await faults.clear();
    return reply.code(204).send();
  });
  app.delete('/v1/chaos/machine-faults/:id', async (request, reply) => {
    await faults.remove(z.object({ id: z.string() }).parse(request.params).id);
    return reply.code(204).send();
  });
}
