import { assertMachineType, listMachineTypes, MACHINE_TYPES } from './machine-types';
import { caught } from '../test/thrown';

describe('machine types', () => {
  it('offers each provider its own machine types', () => {
    expect(listMachineTypes('rke2').map((m) => m.id)).toEqual(['nine-standard-2', 'nine-standard-4', 'nine-standard-8', 'nine-highmem-4']);
    expect(listMachineTypes('gke').map((m) => m.id)).toEqual(['e2-standard-4', 'e2-standard-8', 'n2-standard-8']);
  });

  it('describes every machine with positive whole sizes and prices', () => {
    for (const m of MACHINE_TYPES) {
      expect([m.vcpus, m.memoryGiB, m.monthlyPriceCents].every((n) => Number.isInteger(n) && n > 0)).toBe(true);
    }
  });

  it('returns the machine type a node pool asks for', () => {
    expect(assertMachineType('e2-standard-8', 'gke')).toMatchObject({ vcpus: 8, memoryGiB: 32 });
  });

  it('refuses an unknown machine type, listing the offered ones', () => {
    const error = caught(() => assertMachineType('m5.large', 'rke2'));
    expect(error.type).toBe('machine-type-not-offered');
    expect(error.kind).toBe('unprocessable');
    expect(error.detail).toBe(
      'machine type m5.large is not offered for rke2; rke2 machine types are nine-standard-2, nine-standard-4, nine-standard-8, nine-highmem-4',
    );
  });

  it("refuses another provider's machine type", () => {
    expect(caught(() => assertMachineType('nine-standard-4', 'gke')).detail).toContain('is a rke2 machine type, not a gke one');
  });
});
