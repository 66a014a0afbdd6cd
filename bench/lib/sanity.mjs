// Honesty checks, before any load: every row must answer 200 to the request it is measured with,
// and refuse the same token without its binding (no certificate, another certificate, a replayed
// or missing DPoP proof). Any other answer stops the run. Bare-framework rows only prove the 200;
// informational probes (`expect: 'any'`) show what a peer does without checking it (the report marks
// a 200 there with "(!)").
import { httpsRequest } from '@certbound/testing';

/** A probe: `{ label, certificate?, headers, expect: 200 | 401 | 'reject' | 'any' }`. */
export const probe = (label, expect, { certificate, headers }) => ({ label, expect, certificate, headers });

function meets(expect, status) {
  if (expect === 'any') return true;
  if (expect === 'reject') return status >= 400 && status < 500;
  return status === expect;
}

/** Runs the row's probes in order (a replay probe relies on the one before it). */
export async function checkRow(row, target, ca) {
  const probes = await row.probes();
  const results = [];
  for (const p of probes) {
    const response = await httpsRequest(`https://localhost:${target.port}/`, {
      ca,
      certificate: p.certificate,
      headers: p.headers,
    });
    const result = {
      label: p.label,
      expect: p.expect,
      status: response.status,
      ok: meets(p.expect, response.status),
    };
    results.push(result);
    if (!result.ok) {
      throw new Error(
        `${row.name}: "${p.label}" answered ${response.status} ${response.body.slice(0, 200)}, expected ${p.expect}: refusing to benchmark`,
      );
    }
  }
  return results;
}
