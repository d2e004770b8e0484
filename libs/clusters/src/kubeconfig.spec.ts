import { renderKubeconfig } from './kubeconfig';

describe('renderKubeconfig', () => {
  const credentials = { server: 'https://127.0.0.1:8443', caCertificate: 'PEM', token: 'sim_x', expiresAt: new Date('2030-01-01T00:00:00.000Z') };

  it('names the cluster by tls-server-name when the provider serves several clusters on one address', () => {
    const text = renderKubeconfig('demo', { ...credentials, tlsServerName: 'capstan-1.clusters.simulator.capstan.test' });
    expect(text).toContain(
      [
        '    server: https://127.0.0.1:8443',
        `    certificate-authority-data: ${Buffer.from('PEM').toString('base64')}`,
        '    tls-server-name: capstan-1.clusters.simulator.capstan.test',
      ].join('\n'),
    );
  });

  it('leaves tls-server-name out when the server URL names the cluster itself', () => {
    expect(renderKubeconfig('demo', credentials)).not.toContain('tls-server-name');
  });
});
