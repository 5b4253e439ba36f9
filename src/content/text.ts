/**
 * Text helpers for content that came from outside and is shown later: each one total (it never throws),
 * because rendering must not fail on what was stored.
 */

/** decodeURIComponent that never throws: each run of valid escapes is decoded, a malformed one ("%", "%E0%A4") stays as written. */
export function decodePercent(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s.replace(/(?:%[0-9a-f]{2})+/gi, (run) => {
      try {
        return decodeURIComponent(run);
      } catch {
        return run;
      }
    });
  }
}

/** Lone UTF-16 surrogates replaced by U+FFFD (String.prototype.toWellFormed, ES2024): encodeURI and friends throw on them. */
export function wellFormed(s: string): string {
  return s.replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, '\ufffd');
}

/**
 * Characters that reorder or hide what follows them: the bidi embeddings, overrides and isolates
 * (U+202A–202E, U+2066–2069) and the direction marks (U+200E, U+200F). In a file name
 * "\u202Efdp.exe" reads as "exe.pdf"; no legitimate name needs them, so they are removed, not escaped.
 */
const BIDI_CONTROLS = /[\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

export function stripBidiControls(s: string): string {
  return s.replace(BIDI_CONTROLS, '');
}
