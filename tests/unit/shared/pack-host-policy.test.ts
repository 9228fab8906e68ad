import { describe, expect, it } from 'vitest';
import { packAddressFault, safeLinkUrl } from '../../../src/shared/pack-host-policy';

describe('where packs may come from', () => {
  it('takes https from anywhere and plain http only from this device', () => {
    expect(packAddressFault('https://packs.example.org/sd/manifest.json')).toBeNull();
    for (const local of [
      'http://localhost:4173/m.json',
      'http://127.0.0.1:9/m.json',
      'http://[::1]/m.json',
    ])
      expect(packAddressFault(local)).toBeNull();
    expect(packAddressFault('http://packs.example.org/manifest.json')).toMatch(
      /^Packs must come from an https:\/\/ address: packs\.example\.org uses plain http:\/\//,
    );
  });

  it('refuses other schemes without claiming http is refused too', () => {
    for (const url of ['javascript:alert(1)', 'data:application/json,{}', 'file:///etc/passwd'])
      expect(packAddressFault(url)).toBe(
        'A pack address must start with https:// (or http://localhost for a pack on this device).',
      );
    expect(packAddressFault('not a url')).toBe('That is not a web address.');
    expect(packAddressFault('/packs/demo/manifest.json', 'http://localhost:4173/')).toBeNull();
  });

  it('shows only http(s) links from a manifest', () => {
    expect(safeLinkUrl('https://example.org/licence')).toBe('https://example.org/licence');
    expect(safeLinkUrl('javascript:alert(1)')).toBeNull();
    expect(safeLinkUrl('data:text/html,<b>x</b>')).toBeNull();
    expect(safeLinkUrl(undefined)).toBeNull();
  });
});
