import { stripBidiControls, wellFormed } from './text.js';

/**
 * A stored name never carries a path, control characters or a leading dot, and stays under 255 bytes while
 * keeping its extension, so that a download cannot land outside the user's folder or hide its type (bidi
 * controls removed: "\u202Efdp.exe" must not read as "exe.pdf").
 */
export function safeFilename(name: string): string {
  let base = stripBidiControls(wellFormed(name)).normalize('NFC').replace(/^.*[\\/]/, '').replace(/[\u0000-\u001f\u007f"<>:|?*]/g, '_').replace(/^[.\s]+/, '').trim();
  if (!base) base = 'attachment';
  if (Buffer.byteLength(base) > 200) {
    const dot = base.lastIndexOf('.');
    const ext = dot > 0 && base.length - dot <= 16 ? base.slice(dot) : '';
    // By code point, so that no surrogate pair is cut in half.
    base = [...base].slice(0, 100).join('') + ext;
  }
  return base;
}
