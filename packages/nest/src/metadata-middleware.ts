/**
 * Serves the RFC 9728 Protected Resource Metadata document before routing and guards (it is
 * public), on Express and Fastify alike: Nest hands middleware the Node request and response.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Verifier } from '@certbound/core';
import { Inject, Injectable, type NestMiddleware } from '@nestjs/common';
import { CERTBOUND_VERIFIER } from './tokens.js';

@Injectable()
export class ProtectedResourceMetadataMiddleware implements NestMiddleware {
  constructor(@Inject(CERTBOUND_VERIFIER) private readonly verifier: Verifier) {}

  use(req: IncomingMessage & { originalUrl?: string }, res: ServerResponse, next: () => void): void {
    const metadata = this.verifier.protectedResource?.respond(req.method, req.originalUrl ?? req.url);
    if (!metadata) {
      next();
      return;
    }
    res.statusCode = metadata.status;
    for (const [name, value] of Object.entries(metadata.headers)) res.setHeader(name, value);
    res.end(metadata.body);
  }
}
