export { createDpopProof, type DpopKey, type DpopProofOptions, dpopThumbprint } from './dpop.js';
export { type HttpsRequestOptions, type HttpsResponse, httpsRequest } from './https-client.js';
export { serveHttps, type TestServer } from './https-server.js';
export {
  createTestIssuer,
  type MintOptions,
  type OutageMode,
  type TestAlgorithm,
  type TestIssuer,
  type TestIssuerOptions,
} from './issuer.js';
export type { IssueOptions, TestCertificate, TestPki } from './pki.js';
export { createTestPki } from './pki.js';
