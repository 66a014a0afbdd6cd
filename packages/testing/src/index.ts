export { createTestPki } from './pki.js';
export type { IssueOptions, TestCertificate, TestPki } from './pki.js';
