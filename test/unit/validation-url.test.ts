import { describe, expect, it } from 'vitest';
import { urlProblem } from '../../services/validation/url.js';

describe('urlProblem (API.md URL rule)', () => {
  it.each([
    'http://127.0.0.1:8000/agent',
    'http://[::1]:3000/',
    'http://localhost:3000',
    'http://10.0.0.5/',
    'http://172.16.3.4/',
    'http://192.168.1.20:8080/a?b=c',
    'https://agent.example.com/path',
    'http://host.docker.internal:4000/',
    'http://[fd12:3456::1]/',
    'http://[::ffff:127.0.0.1]/',
    'http://100.64.0.1/',
  ])('accepts %s (loopback, private and public addresses; names are not resolved)', (url) => {
    expect(urlProblem(url)).toBeNull();
  });

  it.each([
    ['ftp://host/file', /http or https/],
    ['file:///etc/passwd', /http or https/],
    ['javascript:alert(1)', /http or https/],
    ['not a url', /./],
    ['', /./],
    [`http://a.example/${'x'.repeat(2048)}`, /2048/],
    ['http://169.254.169.254/latest/meta-data', /link-local/],
    ['http://169.254.0.1/', /link-local/],
    ['http://2852039166/', /link-local/], // 169.254.169.254 as one decimal number
    ['http://0xa9.0xfe.0xa9.0xfe/', /link-local/],
    ['http://0251.0376.0251.0376/', /link-local/],
    ['http://169.254.169.254./', /link-local/],
    ['http://[fe80::1]/', /link-local/],
    ['http://[febf::1]/', /link-local/],
    ['http://[::ffff:169.254.169.254]/', /link-local/],
    ['http://[::ffff:a9fe:a9fe]/', /link-local/],
    ['http://[0:0:0:0:0:ffff:a9fe:a9fe]/', /link-local/],
    ['http://[64:ff9b::169.254.169.254]/', /link-local/],
    ['http://[fd00:ec2::254]/', /metadata/],
    ['http://100.100.100.200/', /metadata/],
    ['http://224.0.0.1/', /multicast/],
    ['http://239.255.255.250:1900/', /multicast/],
    ['http://[ff02::1]/', /multicast/],
    ['http://[::ffff:224.0.0.1]/', /multicast/],
    ['http://0.0.0.0:8000/', /unspecified/],
    ['http://0/', /unspecified/],
    ['http://[::]/', /unspecified/],
    ['http://[::ffff:0.0.0.0]/', /unspecified/],
    ['http://192.0.2.10/', /documentation/],
    ['http://198.51.100.1/', /documentation/],
    ['http://203.0.113.99/', /documentation/],
    ['http://[2001:db8::1]/', /documentation/],
    ['http://[::ffff:203.0.113.1]/', /documentation/],
    ['http://255.255.255.255/', /broadcast/],
    ['http://metadata.google.internal/computeMetadata/v1/', /metadata/],
    ['http://METADATA.GOOGLE.INTERNAL./', /metadata/],
    ['http://metadata/', /metadata/],
    ['http://metadata.azure.com/', /metadata/],
    ['http://instance-data/', /metadata/],
    ['http://instance-data.ec2.internal/', /metadata/],
    ['http://metadata.something.internal/', /metadata/],
    ['\u0000http://a.example/', /control/],
    ['http://a.example/\n', /control/],
    [' http://a.example/', /control/],
  ])('refuses %j', (url, reason) => {
    expect(urlProblem(url)).toMatch(reason);
  });

  it('accepts exactly 2048 characters', () => {
    const base = 'http://a.example/';
    expect(urlProblem(base + 'x'.repeat(2048 - base.length))).toBeNull();
  });
});
