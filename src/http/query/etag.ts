/** The ETag of a product version, the same one the command service answers with. */
export const etagOf = (version: number): string => `"${version}"`;

/** RFC 9110 If-None-Match: weak comparison, a list of tags, or `*` for any current representation. */
export function ifNoneMatchHits(header: string | undefined, etag: string): boolean {
  if (!header) return false;
  if (header.trim() === '*') return true;
  return header
    .split(',')
    .map((tag) => tag.trim().replace(/^W\//, ''))
    .includes(etag);
}
