/**
 * The RFC 8705 Appendix A certificate, whose `x5t#S256` the RFC gives (so tests know the expected
 * value without computing it with the code under test), and another canonical thumbprint.
 */
import { readFileSync } from 'node:fs';

export const APPENDIX_A_PEM = readFileSync(
  new URL('../fixtures/rfc8705-appendix-a.pem', import.meta.url),
  'utf8',
);
export const APPENDIX_A_DER = Buffer.from(APPENDIX_A_PEM.replace(/-----[^-]+-----|\s/g, ''), 'base64');
/** RFC 8705 Appendix A: the `x5t#S256` of the (expired) example certificate. */
export const APPENDIX_A_THUMBPRINT = 'A4DtL2JmUMhAsvJj5tKyn64SqzmuXbMrJa0n761y5v0';
/** A canonical `x5t#S256` of some other certificate. */
export const OTHER_THUMBPRINT = 'bwcK0esc3ACC3DB2Y5_lESsXE8o9ltc05O89jdN-dg0';
