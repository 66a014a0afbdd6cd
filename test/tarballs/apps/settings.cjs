// What the tarballs test gives every program, from the environment: certbound's options (a local
// JWK Set, so no authorization server is called) and the server's TLS certificate. A program
// prints {"port":N} once it listens on 127.0.0.1, and runs until it is killed.
const env = (name) => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
};

exports.options = {
  issuer: env('CERTBOUND_ISSUER'),
  audience: env('CERTBOUND_AUDIENCE'),
  jwks: JSON.parse(env('CERTBOUND_JWKS')),
};

exports.tls = { cert: env('TLS_CERT'), key: env('TLS_KEY'), ca: env('TLS_CA') };

exports.listening = (port) => process.stdout.write(`${JSON.stringify({ port })}\n`);
