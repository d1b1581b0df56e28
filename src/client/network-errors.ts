/**
 * A request that got no HTTP answer, said the way its cause needs: a server that is not running
 * is not a certificate the client does not trust, nor a URL with the wrong scheme. All of them
 * are `unreachable` (exit 6, SPEC §4): no answer came from a server this client can trust. An
 * untrusted certificate is not an integrity failure (exit 7, which says the server's data was
 * tampered with): nothing was sent or received, and it is most often a private CA not yet
 * given to the client.
 */
import { UnreachableError } from './errors.js';

/**
 * node's (OpenSSL's) codes for a certificate chain it could not verify, with a few words each.
 * The hint for all of them but expiry: a private CA or a self-signed certificate is trusted
 * through NODE_EXTRA_CA_CERTS.
 */
const UNTRUSTED_CERTIFICATE: Record<string, string> = {
  DEPTH_ZERO_SELF_SIGNED_CERT: 'it is self-signed',
  SELF_SIGNED_CERT_IN_CHAIN: 'its chain ends in a self-signed certificate this machine does not trust',
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: 'it was issued by a certificate authority this machine does not know',
  UNABLE_TO_GET_ISSUER_CERT: 'it was issued by a certificate authority this machine does not know',
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: 'it was issued by a certificate authority this machine does not know',
  CERT_UNTRUSTED: 'it is not trusted for this purpose',
  CERT_SIGNATURE_FAILURE: 'its signature does not verify',
  CERT_CHAIN_TOO_LONG: 'its chain is too long',
  INVALID_CA: 'a certificate in its chain is not a valid certificate authority',
  CERT_REJECTED: 'it was rejected',
};

const EXPIRED_CERTIFICATE: Record<string, string> = {
  CERT_HAS_EXPIRED: 'it has expired',
  CERT_NOT_YET_VALID: 'it is not valid yet',
  ERROR_IN_CERT_NOT_BEFORE_FIELD: 'its start date is malformed',
  ERROR_IN_CERT_NOT_AFTER_FIELD: 'its end date is malformed',
};

const PRIVATE_CA_HINT =
  'for a server with a private certificate authority or a self-signed certificate, give that CA (or the certificate) to the client: NODE_EXTRA_CA_CERTS=/path/to/ca.pem insomnia-sync ...';

/** A TLS client's error when the other end answered something that is not TLS (plain HTTP). */
function notTls(err: { code?: string; message?: string }): boolean {
  return err.code === 'EPROTO' || err.code === 'ERR_SSL_WRONG_VERSION_NUMBER' || /wrong version number|packet length too long|http request/i.test(err.message ?? '');
}

/**
 * Where the server URL came from, for the hints: in a linked folder it is the folder's link
 * (`.insomnia-sync/link.json`), which wins over INSOMNIA_SYNC_SERVER and refuses another --server
 * (services/open-linked.ts), so a hint to change either would not help there.
 */
export interface ServerSource {
  linked?: boolean;
}

/** The words a hint uses for a linked folder's server. */
export function linkedTo(base: string): string {
  return `this folder is linked to ${base} (.insomnia-sync/link.json)`;
}

/**
 * The error for a request to `base` that failed before any answer: `err` is what node's http or
 * https client gave (its `code` names the cause).
 */
export function networkFailure(err: unknown, base: string, source: ServerSource = {}): UnreachableError {
  const linked = source.linked === true;
  const e = (err ?? {}) as { code?: string; message?: string; reason?: string };
  const code = e.code ?? '';
  const https = base.startsWith('https:');
  const untrusted = UNTRUSTED_CERTIFICATE[code];
  if (untrusted) return new UnreachableError(`the server's certificate at ${base} is not trusted: ${untrusted} (${code})`, PRIVATE_CA_HINT);
  const expired = EXPIRED_CERTIFICATE[code];
  if (expired) {
    return new UnreachableError(
      `the server's certificate at ${base} is not trusted: ${expired} (${code})`,
      "the server's operator must renew it; check this machine's clock too",
    );
  }
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') {
    return new UnreachableError(
      `the server's certificate at ${base} is not trusted: it is for another host name (${e.reason ?? code})`,
      linked
        ? `${linkedTo(base)}: have the certificate name that host, or clone the workspace again with --server and a host name the certificate names`
        : 'use a host name the certificate names in --server or INSOMNIA_SYNC_SERVER, or have the certificate name this one',
    );
  }
  if (https && notTls(e)) {
    return new UnreachableError(
      `cannot reach the server at ${base}: it does not speak TLS (${code || e.message})`,
      linked
        ? `${linkedTo(base)}, and the server may serve plain HTTP: start it with --tls-cert, or clone the workspace again with --server ${base.replace(/^https:/, 'http:')}`
        : `the server may serve plain HTTP: check the scheme in --server or INSOMNIA_SYNC_SERVER (${base.replace(/^https:/, 'http:')}), or start the server with --tls-cert`,
    );
  }
  if (!https && (code === 'ECONNRESET' || code.startsWith('HPE_'))) {
    return new UnreachableError(
      `cannot reach the server at ${base}: the connection closed without an HTTP answer (${code})`,
      linked
        ? `${linkedTo(base)}: if that server speaks HTTPS, clone the workspace again with --server ${base.replace(/^http:/, 'https:')}; else check that it is running`
        : `if the server speaks HTTPS, the scheme is wrong: use ${base.replace(/^http:/, 'https:')} in --server or INSOMNIA_SYNC_SERVER; else check that the server is running`,
    );
  }
  return new UnreachableError(
    `cannot reach the server at ${base} (${code || e.message})`,
    linked ? `${linkedTo(base)}: check that that server is running` : 'check --server or INSOMNIA_SYNC_SERVER, and that the server is running',
  );
}
