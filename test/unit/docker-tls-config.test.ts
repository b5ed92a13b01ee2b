// DOCKER_HOST over TCP with TLS, read as the docker CLI reads it (DOCKER_TLS_VERIFY: any non-empty
// value; DOCKER_CERT_PATH: ca.pem, cert.pem, key.pem, default ~/.docker), and refused at start-up with
// the file named when a certificate is missing. The handshake itself is tested against the real
// swarm's TLS endpoint (test/e2e/swarm-tls.test.ts).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../config.js';
import { errorMessage, isConnectionError, parseDockerHost, tlsProblem } from '../../services/runtime/docker-connection.js';

const PEM = (what: string) => `-----BEGIN ${what}-----\nMIIB\n-----END ${what}-----\n`;

function certDir(files: string[] = ['ca.pem', 'cert.pem', 'key.pem']): string {
  const dir = mkdtempSync(join(tmpdir(), 'tls-config-'));
  dirs.push(dir);
  for (const f of files) writeFileSync(join(dir, f), PEM(f === 'key.pem' ? 'PRIVATE KEY' : 'CERTIFICATE'));
  return dir;
}
const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

const TCP = 'tcp://manager.example:2376';
const problems = (env: Record<string, string>) => {
  try {
    loadConfig(env);
    return [];
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).problems;
  }
};

describe('DOCKER_TLS_VERIFY / DOCKER_CERT_PATH (config.ts, docker-connection.ts)', () => {
  it('reads the three files, and the connection is HTTPS with them (port 2376 by default)', () => {
    const dir = certDir();
    for (const verify of ['1', 'true', '0']) {
      // As for the docker CLI, any non-empty value turns TLS on ("0" included).
      const c = loadConfig({ CONTAINER_RUNTIME: 'swarm', DOCKER_HOST: TCP, DOCKER_TLS_VERIFY: verify, DOCKER_CERT_PATH: dir });
      expect(c.dockerTls).toEqual({ certPath: dir, ca: PEM('CERTIFICATE'), cert: PEM('CERTIFICATE'), key: PEM('PRIVATE KEY') });
    }
    const tls = loadConfig({ DOCKER_HOST: 'tcp://10.0.0.5', DOCKER_TLS_VERIFY: '1', DOCKER_CERT_PATH: dir }).dockerTls!;
    expect(parseDockerHost('tcp://10.0.0.5', tls)).toEqual({ host: '10.0.0.5', port: 2376, protocol: 'https', ca: tls.ca, cert: tls.cert, key: tls.key });
    expect(parseDockerHost('tcp://10.0.0.5:12376', tls)).toMatchObject({ port: 12376, protocol: 'https' });
    expect(parseDockerHost('tcp://10.0.0.5', null)).toEqual({ host: '10.0.0.5', port: 2375, protocol: 'http' });
  });

  it('defaults DOCKER_CERT_PATH to ~/.docker', () => {
    const home = mkdtempSync(join(tmpdir(), 'tls-home-'));
    dirs.push(home);
    expect(problems({ HOME: home, DOCKER_HOST: TCP, DOCKER_TLS_VERIFY: '1' })).toEqual([
      `DOCKER_CERT_PATH: DOCKER_TLS_VERIFY is set, but ${home}/.docker/ca.pem does not exist; ${home}/.docker/cert.pem does not exist; ${home}/.docker/key.pem does not exist (ca.pem, cert.pem and key.pem are needed)`,
    ]);
  });

  it('a missing or non-PEM file fails start-up, naming it', () => {
    const noKey = certDir(['ca.pem', 'cert.pem']);
    expect(problems({ DOCKER_HOST: TCP, DOCKER_TLS_VERIFY: '1', DOCKER_CERT_PATH: noKey })).toEqual([
      `DOCKER_CERT_PATH: DOCKER_TLS_VERIFY is set, but ${noKey}/key.pem does not exist (ca.pem, cert.pem and key.pem are needed)`,
    ]);
    const garbled = certDir();
    writeFileSync(join(garbled, 'ca.pem'), 'not a certificate');
    expect(problems({ DOCKER_HOST: TCP, DOCKER_TLS_VERIFY: '1', DOCKER_CERT_PATH: garbled })[0]).toMatch(new RegExp(`${garbled}/ca.pem is not a PEM file`));
  });

  it('a cert path without DOCKER_TLS_VERIFY is refused (it would be plain HTTP to a TLS daemon)', () => {
    expect(problems({ DOCKER_HOST: TCP, DOCKER_CERT_PATH: certDir() })[0]).toMatch(/DOCKER_CERT_PATH: set, but DOCKER_TLS_VERIFY is not; set DOCKER_TLS_VERIFY=1/);
  });

  it('TLS does not apply to a unix socket, nor without a container runtime (as for the CLI)', () => {
    expect(loadConfig({ DOCKER_HOST: 'unix:///run/docker.sock', DOCKER_TLS_VERIFY: '1', DOCKER_CERT_PATH: '/nonexistent' }).dockerTls).toBeNull();
    expect(loadConfig({ DOCKER_TLS_VERIFY: '1', DOCKER_CERT_PATH: '/nonexistent' }).dockerTls).toBeNull();
    expect(loadConfig({ CONTAINER_RUNTIME: 'none', DOCKER_HOST: TCP, DOCKER_TLS_VERIFY: '1', DOCKER_CERT_PATH: '/nonexistent' }).dockerTls).toBeNull();
  });

  it('a DOCKER_HOST of another scheme fails start-up instead of the first runtime call', () => {
    expect(problems({ DOCKER_HOST: 'ssh://me@host' })[0]).toMatch(/^DOCKER_HOST: DOCKER_HOST ssh:\/\/me@host: only unix:\/\/ and tcp:\/\//);
  });

  it('TLS failures count as "no daemon" and say what is wrong', () => {
    const wrongCa = Object.assign(new Error('unable to verify the first certificate'), { code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' });
    expect(isConnectionError(wrongCa)).toBe(true);
    expect(errorMessage(wrongCa)).toMatch(/^TLS: the daemon's certificate is not trusted with DOCKER_CERT_PATH's ca\.pem/);
    const refused = Object.assign(new Error('...:SSL routines:ssl3_read_bytes:sslv3 alert bad certificate:...'), { code: 'ERR_SSL_SSLV3_ALERT_BAD_CERTIFICATE' });
    expect(errorMessage(refused)).toMatch(/^TLS: the daemon refused DOCKER_CERT_PATH's cert\.pem/);
    const plainPort = Object.assign(new Error('x:SSL routines:ssl3_get_record:wrong version number:y'), { code: 'ERR_SSL_WRONG_VERSION_NUMBER' });
    expect(errorMessage(plainPort)).toBe('TLS: the handshake with the daemon failed; does DOCKER_HOST name its TLS port? (ERR_SSL_WRONG_VERSION_NUMBER: wrong version number)');
    const plainToTls = Object.assign(new Error('(HTTP code 400) unexpected - Client sent an HTTP request to an HTTPS server.'), { statusCode: 400 });
    expect(isConnectionError(plainToTls)).toBe(true);
    expect(tlsProblem(plainToTls)).toMatch(/speaks only TLS/);
    // An ordinary 400 from the daemon is an answer, not a missing daemon.
    expect(isConnectionError(Object.assign(new Error('(HTTP code 400) bad parameter'), { statusCode: 400 }))).toBe(false);
  });
});
