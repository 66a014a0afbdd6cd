/**
 * A DPoP client made with oauth4webapi (an independent implementation of RFC 9449, which
 * certbound does not use), sending over real mTLS with @certbound/testing's `httpsRequest`: the
 * proofs the tests send are not made by the code under test.
 */
import { type HttpsResponse, httpsRequest } from '@certbound/testing';
import {
  type CryptoKeyPair,
  customFetch,
  DPoP,
  type DPoPHandle,
  protectedResourceRequest,
} from 'oauth4webapi';

export interface DpopClient {
  handle: DPoPHandle;
  /** Sends `method url` with `Authorization: DPoP <token>` and a fresh proof; the raw response. */
  request(method: string, url: string, token: string): Promise<DpopExchange>;
}

export interface DpopExchange {
  response: HttpsResponse;
  /** The headers oauth4webapi sent (to replay them). */
  sent: Record<string, string>;
}

/** A client holding `keyPair`, presenting `certificate` on the TLS connection (if any). */
export function dpopClient(
  keyPair: CryptoKeyPair,
  connection: { ca: string; certificate?: { cert: string; key: string } },
): DpopClient {
  const handle = DPoP({}, keyPair);
  return {
    handle,
    async request(method, url, token) {
      let exchange: DpopExchange | undefined;
      const fetchOverMtls = async (target: string, init: RequestInit): Promise<Response> => {
        const sent = Object.fromEntries(new Headers(init.headers).entries());
        const response = await httpsRequest(target, { ...connection, method, headers: sent });
        exchange = { response, sent };
        const headers = new Headers();
        for (const [name, value] of Object.entries(response.headers)) {
          if (typeof value === 'string') headers.set(name, value);
        }
        return new Response(response.status === 204 ? null : response.body, {
          status: response.status,
          headers,
        });
      };
      try {
        await protectedResourceRequest(token, method, new URL(url), new Headers(), null, {
          DPoP: handle,
          [customFetch]: fetchOverMtls,
        });
      } catch {
        // oauth4webapi throws on a 401 challenge; the raw exchange is what the tests assert.
      }
      if (exchange === undefined) throw new Error('no request was sent');
      return exchange;
    },
  };
}
