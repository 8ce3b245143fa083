/* Hawk bewits for signed artifact URLs, in plain JavaScript.
 *
 * A private artifact's URL needs a signature. The inspector signs it in the browser with the
 * credentials the viewer pasted (kept in sessionStorage, never sent anywhere): a Hawk "bewit"
 * query parameter, as the official clients' buildSignedUrl makes. SHA-256 and HMAC are written
 * out here rather than taken from WebCrypto, because crypto.subtle exists only in secure
 * contexts, and a classroom's mock is often plain http on a LAN address.
 */
"use strict";
(function () {
  // The SHA-256 constants: the first 32 bits of the fractional parts of the cube roots (K) and
  // square roots (H) of the first primes; computed, so no table can be mistyped.
  function primes(n) {
    const out = [];
    for (let c = 2; out.length < n; c++) {
      if (out.every((p) => c % p !== 0)) out.push(c);
    }
    return out;
  }
  const frac = (x) => ((x - Math.floor(x)) * 0x100000000) >>> 0;
  const P = primes(64);
  const K = Uint32Array.from(P, (p) => frac(Math.cbrt(p)));
  const H0 = Uint32Array.from(P.slice(0, 8), (p) => frac(Math.sqrt(p)));

  function sha256(bytes) {
    const bitLength = bytes.length * 8;
    const padded = new Uint8Array(((bytes.length + 9 + 63) >> 6) << 6);
    padded.set(bytes);
    padded[bytes.length] = 0x80;
    const view = new DataView(padded.buffer);
    view.setUint32(padded.length - 8, Math.floor(bitLength / 0x100000000));
    view.setUint32(padded.length - 4, bitLength >>> 0);
    const h = Uint32Array.from(H0);
    const w = new Uint32Array(64);
    const rotr = (x, n) => (x >>> n) | (x << (32 - n));
    for (let off = 0; off < padded.length; off += 64) {
      for (let i = 0; i < 16; i++) w[i] = view.getUint32(off + i * 4);
      for (let i = 16; i < 64; i++) {
        const s0 = rotr(w[i - 15], 7) ^ rotr(w[i - 15], 18) ^ (w[i - 15] >>> 3);
        const s1 = rotr(w[i - 2], 17) ^ rotr(w[i - 2], 19) ^ (w[i - 2] >>> 10);
        w[i] = (w[i - 16] + s0 + w[i - 7] + s1) >>> 0;
      }
      let [a, b, c, d, e, f, g, hh] = h;
      for (let i = 0; i < 64; i++) {
        const S1 = rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25);
        const ch = (e & f) ^ (~e & g);
        const t1 = (hh + S1 + ch + K[i] + w[i]) >>> 0;
        const S0 = rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22);
        const maj = (a & b) ^ (a & c) ^ (b & c);
        const t2 = (S0 + maj) >>> 0;
        hh = g; g = f; f = e; e = (d + t1) >>> 0;
        d = c; c = b; b = a; a = (t1 + t2) >>> 0;
      }
      h[0] += a; h[1] += b; h[2] += c; h[3] += d; h[4] += e; h[5] += f; h[6] += g; h[7] += hh;
    }
    const out = new Uint8Array(32);
    const outView = new DataView(out.buffer);
    for (let i = 0; i < 8; i++) outView.setUint32(i * 4, h[i]);
    return out;
  }

  const utf8 = (text) => new TextEncoder().encode(text);

  function hmacSha256(key, message) {
    let k = key.length > 64 ? sha256(key) : key;
    const block = new Uint8Array(64);
    block.set(k);
    const inner = new Uint8Array(64 + message.length);
    const outer = new Uint8Array(64 + 32);
    for (let i = 0; i < 64; i++) {
      inner[i] = block[i] ^ 0x36;
      outer[i] = block[i] ^ 0x5c;
    }
    inner.set(message, 64);
    outer.set(sha256(inner), 64);
    return sha256(outer);
  }

  function base64(bytes) {
    let binary = "";
    for (const b of bytes) binary += String.fromCharCode(b);
    return btoa(binary);
  }

  /* The bewit signing a GET of `url` until `expires` (unix seconds). */
  function bewit(clientId, accessToken, url, expires, ext) {
    ext = ext || "";
    const u = new URL(url);
    const port = u.port || (u.protocol === "https:" ? "443" : "80");
    const normalized = ["hawk.1.bewit", String(expires), "", "GET", u.pathname + u.search,
                        u.hostname, port, "", ext, ""].join("\n");
    const mac = base64(hmacSha256(utf8(accessToken), utf8(normalized)));
    const inner = `${clientId}\\${expires}\\${mac}\\${ext}`;
    return base64(utf8(inner)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  /* `url` with a bewit valid for `seconds` (default 15 minutes). */
  function signUrl(credentials, url, seconds) {
    const expires = Math.floor(Date.now() / 1000) + (seconds || 900);
    const value = bewit(credentials.clientId, credentials.accessToken, url, expires);
    return url + (url.includes("?") ? "&" : "?") + "bewit=" + encodeURIComponent(value);
  }

  window.TKHawk = { sha256, hmacSha256, base64, bewit, signUrl, utf8 };
})();
