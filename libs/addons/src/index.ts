export * from './addon-cluster-source';
export * from './addons.module';
export { AddonCatalogue } from './addon-catalogue';
