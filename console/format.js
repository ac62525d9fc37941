// Showing what devices report: long or binary data folded, XML
// pretty-printed, everything as text (a <pre>'s textContent), never markup.
import { h } from './dom.js';

const FOLD_AT = 160;

// Control characters other than TAB, LF, CR: data no XML could carry.
// eslint-disable-next-line no-control-regex
const BINARY = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/;

function indentXml(node, depth, out) {
  const pad = '  '.repeat(depth);
  if (node.nodeType === Node.TEXT_NODE || node.nodeType === Node.CDATA_SECTION_NODE) {
    const t = node.nodeValue.trim();
    if (t) out.push(pad + t);
    return;
  }
  if (node.nodeType === Node.COMMENT_NODE) { out.push(`${pad}<!--${node.nodeValue}-->`); return; }
  if (node.nodeType !== Node.ELEMENT_NODE) return;
  const attrs = Array.from(node.attributes).map((a) => ` ${a.name}="${a.value}"`).join('');
  const kids = Array.from(node.childNodes).filter((c) =>
    c.nodeType !== Node.TEXT_NODE || c.nodeValue.trim());
  if (!kids.length) { out.push(`${pad}<${node.nodeName}${attrs}/>`); return; }
  if (kids.length === 1 && kids[0].nodeType === Node.TEXT_NODE) {
    out.push(`${pad}<${node.nodeName}${attrs}>${kids[0].nodeValue.trim()}</${node.nodeName}>`);
    return;
  }
  out.push(`${pad}<${node.nodeName}${attrs}>`);
  kids.forEach((c) => indentXml(c, depth + 1, out));
  out.push(`${pad}</${node.nodeName}>`);
}

// XML text -> indented XML text, or null when it is not well-formed XML.
// DOMParser with an XML type builds an inert document: nothing runs or loads.
export function prettyXml(text) {
  const t = text.trim();
  if (!t.startsWith('<') || !t.endsWith('>')) return null;
  const doc = new DOMParser().parseFromString(t, 'application/xml');
  if (doc.getElementsByTagName('parsererror').length) return null;
  const out = [];
  indentXml(doc.documentElement, 0, out);
  return out.join('\n');
}

// One value a device reported (or an operator queued), as DOM nodes.
export function dataView(data, format) {
  if (data === null || data === undefined) return h('span', { class: 'muted' }, '—');
  const text = String(data);
  if (format === 'b64' || format === 'bin' || BINARY.test(text)) {
    const shown = BINARY.test(text) ? Array.from(text.slice(0, 4096), (c) => {
      const n = c.charCodeAt(0);
      return n < 32 || n === 127 ? `\\x${n.toString(16).padStart(2, '0')}` : c;
    }).join('') : text;
    return h('details', { class: 'data binary' },
      h('summary', {}, `binary (${format || 'raw'}), ${text.length} characters`),
      h('pre', {}, shown));
  }
  const xml = prettyXml(text);
  if (xml !== null) {
    return h('details', { class: 'data xml', open: text.length <= FOLD_AT ? true : null },
      h('summary', {}, `XML, ${text.length} characters`), h('pre', {}, xml));
  }
  if (text.length > FOLD_AT || text.includes('\n')) {
    return h('details', { class: 'data long' },
      h('summary', {}, `${text.slice(0, 60).replace(/\s+/g, ' ')}… (${text.length} characters)`),
      h('pre', {}, text));
  }
  return h('code', { class: 'data' }, text);
}
