/** The credential of an `Authorization: <scheme> <credential>` header, or undefined when absent, malformed or another scheme. */
function credentialOf(scheme: 'Bearer' | 'Basic', header: string | undefined): string | undefined {
  if (!header || header.length > 16 * 1024) return undefined;
  const match = new RegExp(`^${scheme} +(\\S+) *$`, 'i').exec(header);
  return match?.[1];
}

/** The token of `Authorization: Bearer <token>` (API keys, terminal tokens). */
export const bearerToken = (header: string | undefined) => credentialOf('Bearer', header);

/** The base64 token of `Authorization: Basic <token>`, undecoded (ttyd compares it as it is). */
export const basicToken = (header: string | undefined) => credentialOf('Basic', header);
