import { walkthrough } from './walkthrough';

describe('the start-up banner walk through', () => {
  const lines = walkthrough({
    url: 'http://127.0.0.1:8080',
    customerToken: 'cap_demo',
    staffToken: 'capstaff_ops',
    cliPath: '/srv/capstan/dist/apps/cli/src/main.js',
  }).join('\n');

  it('fills in the URL and both tokens, STAFF_TOKEN included', () => {
    expect(lines).toContain('export CAPSTAN_URL=http://127.0.0.1:8080 CAPSTAN_TOKEN=cap_demo STAFF_TOKEN=capstaff_ops');
    expect(lines).toContain("alias capstan='node /srv/capstan/dist/apps/cli/src/main.js'");
    expect(lines).not.toMatch(/cap_\.\.\.|capstaff_\.\.\./);
  });

  it('points staff at the queue board on this URL', () => {
    expect(lines).toContain('http://127.0.0.1:8080/admin/queues/ (sign in with STAFF_TOKEN)');
  });

  it('walks the whole way, CLI first and curl second: create, watch, kubeconfig, staff fault, SLA', () => {
    const order = [
      'capstan clusters create demo',
      '--wait',
      'capstan kubeconfig save',
      '/admin/v1/simulator/clusters/',
      'capstan sla report',
      'or with curl',
      '/v1/clusters/<id>/kubeconfig',
      '/sla?month=',
    ];
    const positions = order.map((step) => lines.indexOf(step));
    expect(positions.every((p) => p >= 0)).toBe(true);
    expect([...positions].sort((a, b) => a - b)).toEqual(positions);
  });
});
