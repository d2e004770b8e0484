/**
 * Every tag a route contract may use, with the description the OpenAPI document gives it, in the
 * order /docs lists them: customer resources first, then staff's, then the probes. The document
 * builder refuses a tag missing here, so a new group of routes is described before it is served.
 */
export const API_TAGS: Readonly<Record<string, string>> = {
  Organization: 'The organisation a customer token belongs to: its plan, quotas and residency',
  Tokens: "The organisation's API tokens: create (the secret is shown once), list, revoke",
  Clusters: 'Managed Kubernetes clusters: create, change, delete, kubeconfigs and maintenance exclusions',
  'Node pools': "A cluster's node pools: add, scale or change, delete",
  Operations: 'The long-running operations every change starts: follow, cancel, resume',
  Upgrades: 'Kubernetes version upgrades: plans, starts, rollbacks, and the security advisories behind them',
  'Add-ons': 'The add-on catalogue and the add-ons each cluster runs',
  Backups: 'Backup schedules, on-demand backups and restores',
  SLA: "Each cluster's monthly availability against its SLA, error budget and credit",
  Billing: "Prices and the organisation's metered usage",
  Catalogue: 'What clusters can be made of: regions, Kubernetes versions, machine types',
  Events: "The organisation's event stream (CloudEvents), as webhooks deliver it",
  Webhooks: 'Endpoints that receive the event stream, signed with a secret shown once',
  Audit: 'Who changed what in the organisation, and when',
  Admin: "Staff's routes across every organisation: organisations, fleet, catalogue, prices, rollouts",
  Simulator: "Staff's controls of the simulated cloud: injected faults and API-server outages",
  System: 'Liveness, readiness and Prometheus metrics',
};
