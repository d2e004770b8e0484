import { controlPlaneUpgradeRefusal, kubeletSkewRefusal, parseVersion } from './versions';

const v = parseVersion;

describe('Kubernetes version rules of the simulated cloud', () => {
  it('allows patch upgrades and the next minor version', () => {
    expect(controlPlaneUpgradeRefusal(v('1.34.2'), v('1.34.5'))).toBeNull();
    expect(controlPlaneUpgradeRefusal(v('1.34.2'), v('1.35.0'))).toBeNull();
  });

  it('refuses to skip a minor version, to go down, or to cross a major version', () => {
    expect(controlPlaneUpgradeRefusal(v('1.33.9'), v('1.35.0'))).toBe('control-plane upgrades move one minor version at a time: 1.33.9 -> 1.35.0 skips 1.34');
    expect(controlPlaneUpgradeRefusal(v('1.34.2'), v('1.34.1'))).toBe('control-plane downgrades are not supported (1.34.2 -> 1.34.1)');
    expect(controlPlaneUpgradeRefusal(v('1.34.2'), v('2.0.0'))).toMatch(/across major versions/);
  });

  it('keeps kubelets no newer than the control plane and at most three minors behind', () => {
    expect(kubeletSkewRefusal(v('1.31.0'), v('1.34.2'))).toBeNull();
    expect(kubeletSkewRefusal(v('1.34.2'), v('1.34.2'))).toBeNull();
    expect(kubeletSkewRefusal(v('1.34.3'), v('1.34.2'))).toMatch(/cannot be newer/);
    expect(kubeletSkewRefusal(v('1.30.9'), v('1.34.2'))).toMatch(/more than 3 minor versions behind/);
  });

  it('reads versions with or without a leading v and refuses anything else', () => {
    expect(v('v1.35.4')).toEqual({ major: 1, minor: 35, patch: 4 });
    expect(() => v('1.35')).toThrow('"1.35" is not a Kubernetes version like 1.35.4');
  });
});
