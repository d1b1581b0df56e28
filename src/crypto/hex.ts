/** Alias module: the hex and UTF-8 helpers live in encoding.ts. */
export { toHex, fromHex, utf8, fromUtf8, constantTimeEqual } from './encoding.js';
