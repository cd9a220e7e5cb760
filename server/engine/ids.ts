/**
 * Random ids for sessions and sockets: 20 URL-safe characters (120 bits) from
 * `crypto.getRandomValues`, drawn from a pool refilled 4 KiB at a time. Browser compatible.
 *
 * One `getRandomValues` call per id cost more than the rest of making it (about 7 µs on Node 20,
 * two per Socket.IO connection); a pool makes it one call per 273 ids, as npm `base64id` (the
 * official servers' ids) pools `crypto.randomBytes`. Every byte is handed out once.
 *
 * @module
 */

const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
const POOL_SIZE = 4095; // a multiple of the 15 bytes of an id
const ID_BYTES = 15;

// Filled on first use: Workers refuse random values outside a request.
let pool: Uint8Array<ArrayBuffer> | undefined;
let at = POOL_SIZE;

/**
 * 20 URL-safe random characters: 15 random bytes in base64url (no padding), the shape of the
 * official session and socket ids.
 */
export function randomId(): string {
  if (at === POOL_SIZE) {
    crypto.getRandomValues(pool ??= new Uint8Array(POOL_SIZE));
    at = 0;
  }
  const p = pool!;
  let id = "";
  for (const end = at + ID_BYTES; at < end; at += 3) {
    const n = (p[at] << 16) | (p[at + 1] << 8) | p[at + 2];
    id += ALPHABET[n >> 18] + ALPHABET[(n >> 12) & 63] + ALPHABET[(n >> 6) & 63] +
      ALPHABET[n & 63];
  }
  return id;
}
