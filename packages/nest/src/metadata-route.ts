/**
 * Serves the RFC 9728 Protected Resource Metadata document on the HTTP adapter itself, outside
 * Nest's routing: it is public (no guard sees it) and stays at the path RFC 9728 §3 gives even
 * when the app has a global prefix. Express and Fastify answer HEAD from the GET route.
 */
import type { ProtectedResourceEndpoint } from '@certbound/core/adapter';
import type { HttpServer } from '@nestjs/common';

export function serveProtectedResourceMetadata(
  adapter: HttpServer,
  endpoint: ProtectedResourceEndpoint,
): void {
  const metadata = endpoint.respond('GET', endpoint.path)!;
  adapter.get(endpoint.path, (_request: unknown, response: unknown) => {
    for (const [name, value] of Object.entries(metadata.headers)) adapter.setHeader(response, name, value);
    adapter.reply(response, metadata.body, metadata.status);
  });
}
