/**
 * Random ids: 20 URL-safe characters from `crypto.getRandomValues`. Browser compatible.
 *
 * @module
 */

const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/** 20 URL-safe random characters (120 bits), the shape of official session and socket ids. */
export function randomId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(20));
  let id = "";
  for (let i = 0; i < 20; i++) id += ALPHABET[bytes[i] & 63];
  return id;
}
