export interface WalkthroughInput {
  /** The API's public URL. */
  url: string;
  customerToken: string;
  staffToken: string;
  /** The built CLI (dist/apps/cli/src/main.js), run with `node` until `capstan` is installed. */
  cliPath: string;
}

/**
 * The README's first walk through (README.md, "A first walk through") with this run's URL and
 * tokens filled in: the CLI first, then the same with curl, then the staff and SLA steps. Kept in
 * one place so the banner and the README say the same thing (walkthrough.spec.ts checks the steps).
 */
export function walkthrough({ url, customerToken, staffToken, cliPath }: WalkthroughInput): string[] {
  const month = '$(date -u +%Y-%m)';
  return [
    '  with the CLI (docs/cli.md):',
    `    alias capstan='node ${cliPath}'`,
    `    export CAPSTAN_URL=${url} CAPSTAN_TOKEN=${customerToken} STAFF_TOKEN=${staffToken}`,
    '    capstan clusters create demo --provider rke2 --region nine-cz41 \\',
    '      --node-pool name=default,machine-type=nine-standard-4,count=3 --wait',
    '    capstan clusters list                                   # the id of demo: cl_...',
    '    capstan kubeconfig save <id> --file demo.kubeconfig',
    '    capstan operations list',
    '    # staff: take the API server down for a while, then read the SLA report',
    `    curl -H "Authorization: Bearer $STAFF_TOKEN" -H 'content-type: application/json' \\`,
    `      ${url}/admin/v1/simulator/clusters/<id>/api-server -d '{"state":"down","reason":"demo"}'`,
    '    capstan sla report <id>',
    `    CAPSTAN_TOKEN=$STAFF_TOKEN capstan admin clusters        # the fleet, as staff`,
    `    # staff: the queue board in a browser, ${url}/admin/queues/ (sign in with STAFF_TOKEN)`,
    '',
    '  or with curl:',
    `    curl -H "Authorization: Bearer $CAPSTAN_TOKEN" ${url}/v1/organization`,
    `    curl -H "Authorization: Bearer $CAPSTAN_TOKEN" -H 'content-type: application/json' ${url}/v1/clusters \\`,
    `      -d '{"name":"demo","provider":"rke2","region":"nine-cz41","node_pools":[{"name":"default","machine_type":"nine-standard-4","count":3}]}'`,
    `    curl -H "Authorization: Bearer $CAPSTAN_TOKEN" ${url}/v1/operations   # steps move to succeeded`,
    `    curl -H "Authorization: Bearer $CAPSTAN_TOKEN" ${url}/v1/clusters/<id>/kubeconfig > kubeconfig`,
    `    curl -H "Authorization: Bearer $CAPSTAN_TOKEN" "${url}/v1/clusters/<id>/sla?month=${month}"`,
  ];
}
