import { ADDON_CATALOGUE_SEED, addonNames, type DomainError } from '@capstan/domain';
import { assertValidSettings, settingsValidator } from './addon-catalogue';

const release = (name: string) => addonNames(ADDON_CATALOGUE_SEED.releases).find((r) => r.name === name)!;
const refusal = (fn: () => void): DomainError => {
  try {
    fn();
  } catch (error) {
    return error as DomainError;
  }
  throw new Error('expected a refusal');
};

describe('add-on settings', () => {
  it('compiles the settings schema of every catalogue release', () => {
    for (const r of ADDON_CATALOGUE_SEED.releases) expect(() => settingsValidator(r.settingsSchema)).not.toThrow();
  });

  it('accepts settings the schema allows and names every violation of the ones it does not', () => {
    expect(() => assertValidSettings(release('keda'), { operator_replicas: 2, watch_namespace: 'apps' })).not.toThrow();
    const error = refusal(() => assertValidSettings(release('keda'), { operator_replicas: 9, colour: 'blue', watch_namespace: 'Not A Label' }));
    expect(error).toMatchObject({ type: 'addon-settings-invalid', kind: 'unprocessable' });
    expect((error.extensions['errors'] as { field: string }[]).map((e) => e.field).sort()).toEqual([
      'settings.colour',
      'settings.operator_replicas',
      'settings.watch_namespace',
    ]);
  });

  it('refuses a staff-written schema with a keyword JSON Schema does not know', () => {
    const schema = { type: 'object', additionalProperties: false, properties: { replicas: { type: 'integer', minimumm: 1 } } };
    expect(refusal(() => settingsValidator(schema))).toMatchObject({ type: 'addon-release-invalid' });
  });
});
