/**
 * certbound's `node:diagnostics_channel` events as OpenTelemetry metrics. Copy this file into your
 * service, call `observeCertbound(meter)` once at start-up, and export with your SDK's reader.
 *
 * Metrics (attributes never include tokens, certificates or client-identifying values):
 * - `certbound.decisions` (counter): `outcome`, `code`, `format`, `certificate.source`;
 * - `certbound.decision.duration` (histogram, ms): `outcome`;
 * - `certbound.introspection.calls` (counter) and `certbound.introspection.duration` (ms): `outcome`;
 * - `certbound.cache.lookups` (counter): `cache` (`token`|`introspection`), `event`
 *   (`hit`|`negative`|`miss`|`coalesced`);
 * - `certbound.jwks.fetches` (counter): `outcome`, `http.response.status_code`.
 */
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import {
  type CacheEvent,
  type DecisionEvent,
  DIAGNOSTICS_CHANNELS,
  type IntrospectionEvent,
  type JwksEvent,
} from '@certbound/core';
import type { Meter } from '@opentelemetry/api';

/** Subscribes the meter's instruments to certbound's channels; returns a function that stops it. */
export function observeCertbound(meter: Meter): () => void {
  const decisions = meter.createCounter('certbound.decisions', {
    description: 'Authentications by outcome and reason',
  });
  const decisionDuration = meter.createHistogram('certbound.decision.duration', {
    description: 'Time spent in certbound per request',
    unit: 'ms',
  });
  const introspections = meter.createCounter('certbound.introspection.calls', {
    description: 'Calls to the RFC 7662 introspection endpoint',
  });
  const introspectionDuration = meter.createHistogram('certbound.introspection.duration', {
    description: 'Latency of introspection calls',
    unit: 'ms',
  });
  const cacheLookups = meter.createCounter('certbound.cache.lookups', {
    description: 'Token and introspection cache lookups',
  });
  const jwksFetches = meter.createCounter('certbound.jwks.fetches', { description: 'JWK Set fetches' });

  const handlers: Array<[string, (message: unknown) => void]> = [
    [
      DIAGNOSTICS_CHANNELS.decision,
      (message) => {
        const event = message as DecisionEvent;
        decisions.add(1, {
          outcome: event.outcome,
          code: event.code ?? 'ok',
          format: event.format ?? 'unknown',
          'certificate.source': event.certificateSource,
        });
        decisionDuration.record(event.durationMs, { outcome: event.outcome });
      },
    ],
    [
      DIAGNOSTICS_CHANNELS.introspection,
      (message) => {
        const event = message as IntrospectionEvent;
        introspections.add(1, { outcome: event.outcome });
        introspectionDuration.record(event.durationMs, { outcome: event.outcome });
      },
    ],
    [
      DIAGNOSTICS_CHANNELS.cache,
      (message) => {
        const event = message as CacheEvent;
        cacheLookups.add(1, { cache: event.cache, event: event.event });
      },
    ],
    [
      DIAGNOSTICS_CHANNELS.jwks,
      (message) => {
        const event = message as JwksEvent;
        jwksFetches.add(1, { outcome: event.outcome, 'http.response.status_code': event.status ?? 0 });
      },
    ],
  ];
  for (const [name, handler] of handlers) subscribe(name, handler);
  return () => {
    for (const [name, handler] of handlers) unsubscribe(name, handler);
  };
}
