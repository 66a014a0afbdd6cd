/**
 * Header field lines as the client sent them: from `rawHeaders`, where Node keeps every line
 * (`req.headers` joins or drops repeats, which would hide a duplicated `Authorization`, `DPoP` or
 * certificate header).
 */

type FieldsRequest = {
  rawHeaders?: readonly string[];
  headers?: Record<string, string | string[] | undefined>;
};

/** Every field line of `name` (lower case), duplicates included. */
export function fieldLines(req: FieldsRequest, name: string): string[] {
  const raw = req.rawHeaders;
  if (raw === undefined) {
    const value = req.headers?.[name];
    return value === undefined ? [] : Array.isArray(value) ? value : [value];
  }
  const lines: string[] = [];
  for (let i = 0; i < raw.length; i += 2) {
    const field = raw[i]!;
    if (field.length === name.length && field.toLowerCase() === name) lines.push(raw[i + 1]!);
  }
  return lines;
}
