// Text that an agent wrote is hostile (invariant 7 in CONTRIBUTING.md). These helpers make it inert in Slack mrkdwn: `&<>` are
// escaped so `<!channel>`, `<@U…>` and `<https://…|…>` cannot act, the text sits in code spans so markdown does not
// render, invisible and bidirectional characters are replaced by a visible marker, and every result fits its limit.

/** Characters that hide or reorder text: zero-width, bidi controls, tags, variation selectors, C0/C1 controls. */
const HIDDEN =
  /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F\u00AD\u034F\u061C\u115F\u1160\u17B4\u17B5\u180B-\u180F\u200B-\u200F\u202A-\u202E\u2060-\u206F\u3164\uFE00-\uFE0F\uFEFF\uFFA0\uFFF0-\uFFFB\u{E0000}-\u{E007F}\u{E0100}-\u{E01EF}]/gu;

const ELLIPSIS = '…';

/** Escapes the three characters Slack treats as control sequences in mrkdwn and plain text. */
export function escapeSlack(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** True when the text holds invisible or bidirectional characters. */
export function hasHiddenCharacters(text: string): boolean {
  HIDDEN.lastIndex = 0;
  const found = HIDDEN.test(text);
  HIDDEN.lastIndex = 0;
  return found;
}

/** Replaces each invisible or bidirectional character by a visible `⟦U+XXXX⟧` marker. */
export function revealHiddenCharacters(text: string): string {
  return text.replace(HIDDEN, (c) => `⟦U+${(c.codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, '0')}⟧`);
}

/** Cuts text to at most `max` UTF-16 units without splitting a surrogate pair, ending with `…` when cut. */
export function truncate(text: string, max: number): string {
  if (text.length <= max) return text;
  let out = '';
  for (const c of text) {
    if (out.length + c.length > max - ELLIPSIS.length) break;
    out += c;
  }
  return out + ELLIPSIS;
}

/** Escapes `text` and cuts the escaped result to `max` units, never inside an entity. */
export function escapeAndTruncate(text: string, max: number): string {
  const escaped = escapeSlack(text);
  if (escaped.length <= max) return escaped;
  let out = '';
  for (const c of text) {
    const piece = escapeSlack(c);
    if (out.length + piece.length > max - ELLIPSIS.length) break;
    out += piece;
  }
  return out + ELLIPSIS;
}

/** Renders hostile text inert, remembering whether any of it hid characters (to flag the message). */
export interface InertRenderer {
  /** One line in a code span: newlines folded, at most `max` characters including the backticks. */
  inline(text: string, max: number): string;
  /** A code block (keeps line breaks), at most `max` characters including the fences. */
  block(text: string, max: number): string;
  /** True once any rendered text held invisible or bidirectional characters. */
  readonly flagged: boolean;
}

/** A fresh renderer; one per message, so the message can say whether it flagged anything. */
export function createInertRenderer(): InertRenderer {
  let flagged = false;
  const prepare = (text: string) => {
    if (hasHiddenCharacters(text)) flagged = true;
    // A backtick could close the code span; the look-alike keeps the text readable and the span closed.
    return revealHiddenCharacters(text).replace(/`/g, 'ˋ');
  };
  return {
    inline(text, max) {
      const body = prepare(text)
        .replace(/\r\n|\r|\n/g, ' ⏎ ')
        .trim();
      if (body === '') return '—';
      return `\`${escapeAndTruncate(body, Math.max(max - 2, 2))}\``;
    },
    block(text, max) {
      const body = prepare(text);
      if (body.trim() === '') return '—';
      return `\`\`\`${escapeAndTruncate(body, Math.max(max - 6, 2))}\`\`\``;
    },
    get flagged() {
      return flagged;
    },
  };
}
