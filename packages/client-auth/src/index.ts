export type { CertificateInput } from './certificate-input.js';
export {
  CLIENT_CERTIFICATE_FAILURES,
  type ClientCertificateAuthMethod,
  type ClientCertificateFailure,
  type ClientCertificateJwk,
  type ClientCertificateMetadata,
  type ClientCertificateRule,
  type ClientCertificateVerification,
  type VerifyClientCertificateOptions,
  verifyClientCertificate,
} from './verify-client-certificate.js';
