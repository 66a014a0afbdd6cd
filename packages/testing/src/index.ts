export type { IssueOptions, TestCertificate, TestPki } from './pki.js';
export { createTestPki } from './pki.js';
