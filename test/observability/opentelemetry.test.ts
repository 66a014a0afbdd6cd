/**
 * The OpenTelemetry recipe (examples/opentelemetry/src/certbound-metrics.ts), run against the real
 * OpenTelemetry metrics SDK while real requests go through a verifier.
 */
import { createVerifier } from '@certbound/core';
import { createTestIssuer, createTestPki } from '@certbound/testing';
import {
  AggregationTemporality,
  type DataPoint,
  MeterProvider,
  MetricReader,
  type ResourceMetrics,
} from '@opentelemetry/sdk-metrics';
import { describe, expect, it } from 'vitest';
import { observeCertbound } from '../../examples/opentelemetry/src/certbound-metrics.js';

class TestReader extends MetricReader {
  constructor() {
    super({ aggregationTemporalitySelector: () => AggregationTemporality.CUMULATIVE });
  }
  protected async onForceFlush(): Promise<void> {}
  protected async onShutdown(): Promise<void> {}
}

function points(metrics: ResourceMetrics, name: string): DataPoint<unknown>[] {
  return metrics.scopeMetrics.flatMap((scope) =>
    scope.metrics
      .filter((metric) => metric.descriptor.name === name)
      .flatMap((metric) => metric.dataPoints as DataPoint<unknown>[]),
  );
}

describe('the OpenTelemetry recipe', () => {
  it('turns certbound events into counters and histograms with bounded attributes', async () => {
    const pki = await createTestPki();
    const issuer = await createTestIssuer({ pki });
    const client = await pki.issueClient({ subject: 'CN=client-a' });
    const attacker = await pki.lookAlike(client);
    const verifier = createVerifier({
      issuer: issuer.issuer,
      audience: issuer.audience,
      tls: { ca: issuer.ca },
      introspection: issuer.introspectionClient,
    });
    const reader = new TestReader();
    const provider = new MeterProvider({ readers: [reader] });
    const stop = observeCertbound(provider.getMeter('certbound-test'));
    try {
      const jwt = await issuer.mintAccessToken({ certificate: client });
      const opaque = issuer.mintOpaqueToken({ certificate: client });
      await verifier.verify({ authorization: `Bearer ${jwt}`, certificate: client.cert });
      await verifier.verify({ authorization: `Bearer ${jwt}`, certificate: client.cert });
      await expect(
        verifier.verify({ authorization: `Bearer ${jwt}`, certificate: attacker.cert }),
      ).rejects.toThrow();
      await verifier.verify({ authorization: `Bearer ${opaque}`, certificate: client.cert });

      const { resourceMetrics } = await reader.collect();
      const decisions = points(resourceMetrics, 'certbound.decisions').map((p) => [p.attributes, p.value]);
      expect(decisions).toEqual(
        expect.arrayContaining([
          [{ outcome: 'accepted', code: 'ok', format: 'jwt', 'certificate.source': 'input' }, 2],
          [
            { outcome: 'rejected', code: 'cnf_mismatch', format: 'unknown', 'certificate.source': 'input' },
            1,
          ],
          [{ outcome: 'accepted', code: 'ok', format: 'opaque', 'certificate.source': 'input' }, 1],
        ]),
      );
      const durations = points(resourceMetrics, 'certbound.decision.duration');
      expect(durations.map((p) => (p.value as { count: number }).count).reduce((a, b) => a + b, 0)).toBe(4);
      expect(
        points(resourceMetrics, 'certbound.introspection.calls').map((p) => [p.attributes, p.value]),
      ).toEqual([[{ outcome: 'active' }, 1]]);
      expect(points(resourceMetrics, 'certbound.jwks.fetches').map((p) => [p.attributes, p.value])).toEqual([
        [{ outcome: 'ok', 'http.response.status_code': 200 }, 1],
      ]);
      const lookups = points(resourceMetrics, 'certbound.cache.lookups').map((p) => [p.attributes, p.value]);
      expect(lookups).toEqual(
        expect.arrayContaining([
          [{ cache: 'token', event: 'miss' }, 1],
          [{ cache: 'token', event: 'hit' }, 2],
          [{ cache: 'introspection', event: 'miss' }, 1],
        ]),
      );
    } finally {
      stop();
      await Promise.all([provider.shutdown(), verifier.close(), issuer.close()]);
    }
  });
});
