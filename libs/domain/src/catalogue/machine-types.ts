/**
 * The machine types node pools can use, per provider, with the list price Capstan shows.
 * Prices are monthly list prices in CHF cents; they are catalogue data, not billing truth.
 */
import { UnprocessableError } from '../errors/domain-error';
import { Provider } from './provider';

export interface MachineType {
  id: string;
  provider: Provider;
  vcpus: number;
  memoryGiB: number;
  monthlyPriceCents: number;
}

// Frozen to the leaves: the catalogue is shared by every request in the process.
export const MACHINE_TYPES: readonly Readonly<MachineType>[] = Object.freeze(
  (
    [
      { id: 'nine-standard-2', provider: 'rke2', vcpus: 2, memoryGiB: 8, monthlyPriceCents: 6_000 },
      { id: 'nine-standard-4', provider: 'rke2', vcpus: 4, memoryGiB: 16, monthlyPriceCents: 12_000 },
      { id: 'nine-standard-8', provider: 'rke2', vcpus: 8, memoryGiB: 32, monthlyPriceCents: 24_000 },
      { id: 'nine-highmem-4', provider: 'rke2', vcpus: 4, memoryGiB: 32, monthlyPriceCents: 16_000 },
      { id: 'e2-standard-4', provider: 'gke', vcpus: 4, memoryGiB: 16, monthlyPriceCents: 13_500 },
      { id: 'e2-standard-8', provider: 'gke', vcpus: 8, memoryGiB: 32, monthlyPriceCents: 27_000 },
      { id: 'n2-standard-8', provider: 'gke', vcpus: 8, memoryGiB: 32, monthlyPriceCents: 33_000 },
    ] satisfies MachineType[]
  ).map((x) => Object.freeze(x)),
);

export function listMachineTypes(provider?: Provider): MachineType[] {
  return MACHINE_TYPES.filter((m) => provider === undefined || m.provider === provider);
}

export function assertMachineType(id: string, provider: Provider): MachineType {
  const found = MACHINE_TYPES.find((m) => m.id === id && m.provider === provider);
  if (!found) {
    const offered = listMachineTypes(provider).map((m) => m.id);
    const elsewhere = MACHINE_TYPES.find((m) => m.id === id);
    const why = elsewhere ? `is a ${elsewhere.provider} machine type, not a ${provider} one` : `is not offered for ${provider}`;
    throw new UnprocessableError('machine-type-not-offered', `machine type ${id} ${why}; ${provider} machine types are ${offered.join(', ')}`, {
      machine_type: id,
      provider,
      offered,
    });
  }
  return found;
}
