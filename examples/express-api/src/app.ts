/**
 * The Express API. Order matters: routes mounted before `certbound()` are public; everything
 * after it requires a valid access token bound (RFC 8705 §3) to the client certificate of the
 * request's mutual-TLS connection. `errorHandler()` comes last and answers certbound's errors
 * with `{ error, error_description, code }` next to the RFC 6750 §3 `WWW-Authenticate` challenge.
 */
import {
  type CertboundOptions,
  certbound,
  errorHandler,
  requireScopes,
  type Verifier,
} from '@certbound/express';
import express from 'express';

export function createApp(options: CertboundOptions | Verifier): express.Express {
  const app = express();

  app.get('/health', (_req, res) => {
    res.json({ status: 'ok' });
  });

  app.use(certbound(options));
  // JSON only, parsed after authentication: unauthenticated clients cannot make us read bodies.
  app.use(express.json());

  app.get('/accounts', requireScopes('accounts:read'), (req, res) => {
    res.json({ accounts: [{ id: 'acc-1', balance: '1200.00' }], client: req.auth!.clientId });
  });

  app.post('/payments', requireScopes('payments:write'), (req, res) => {
    const { amount } = (req.body ?? {}) as { amount?: unknown };
    res.status(201).json({ id: 'pay-1', amount, client: req.auth!.clientId });
  });

  app.get('/me', (req, res) => {
    const { subject, clientId, scopes, thumbprint, bound, format } = req.auth!;
    res.json({ subject, clientId, scopes, thumbprint, bound, format });
  });

  app.use(errorHandler());
  return app;
}
