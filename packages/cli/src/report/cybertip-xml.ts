import { CliError } from "../errors.js";

/**
 * The small XML the CyberTipline Reporting API speaks (docs/commands/report.md, "cybertip"): elements, attributes
 * and text, nothing else. Reports are built as trees of {@link XmlElement} and serialised here, so every string a
 * platform supplies is escaped in one place (a screen name holding `</reporter>` stays text). The parser reads back
 * what `--check FILE` is given and what the server answers: it refuses DOCTYPE (entity expansion, external
 * entities), CDATA, comments and processing instructions other than the XML declaration, and mixed content.
 */
export interface XmlElement {
  name: string;
  attrs?: Record<string, string>;
  /** Child elements, or one text node (mixed content does not occur in the report schema). */
  children: (XmlElement | string)[];
}

/** An element with child elements (those undefined are left out, so optional parts read as `maybe && el(...)`). */
export function el(
  name: string,
  children: (XmlElement | string | undefined | false)[] = [],
  attrs?: Record<string, string>,
): XmlElement {
  const kept = children.filter((c): c is XmlElement | string => c !== undefined && c !== false);
  return { name, ...(attrs !== undefined && { attrs }), children: kept };
}

/** An element holding text, or undefined when the value is (so optional fields drop out). */
export function textEl(name: string, value: string | number | boolean | undefined): XmlElement | undefined {
  return value === undefined ? undefined : { name, children: [String(value)] };
}

// Characters XML 1.0 cannot carry at all (C0 controls but tab, LF, CR; lone surrogates; U+FFFE/U+FFFF): refused,
// not dropped, so a report never says less than the platform gave without it knowing.
function holdsNonXml(value: string): boolean {
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c < 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d) return true;
    if (c === 0xfffe || c === 0xffff) return true;
    if (c >= 0xd800 && c <= 0xdbff) {
      const next = value.charCodeAt(i + 1);
      if (!(next >= 0xdc00 && next <= 0xdfff)) return true;
      i++;
    } else if (c >= 0xdc00 && c <= 0xdfff) return true;
  }
  return false;
}

/** Escapes text or an attribute value (quotes included, so the same function serves both). */
export function escapeXml(value: string, where: string): string {
  if (holdsNonXml(value))
    throw new CliError("PHM_USAGE", `${where} holds a character XML cannot carry (a control character)`);
  return value.replace(/[&<>"']/g, (c) => `&${ENTITY_OF[c]};`);
}

const ENTITY_OF: Record<string, string> = { "&": "amp", "<": "lt", ">": "gt", '"': "quot", "'": "apos" };
const CHAR_OF: Record<string, string> = { amp: "&", lt: "<", gt: ">", quot: '"', apos: "'" };
const NAME = /^[A-Za-z_][A-Za-z0-9._-]*$/;

/** The document: XML declaration, then the element, two-space indented. */
export function serializeXml(root: XmlElement): string {
  return `<?xml version="1.0" encoding="UTF-8"?>\n${serializeElement(root, "", root.name)}\n`;
}

function serializeElement(node: XmlElement, indent: string, path: string): string {
  if (!NAME.test(node.name)) throw new CliError("PHM_INTERNAL", `not an XML element name: ${node.name}`);
  const attrs = Object.entries(node.attrs ?? {})
    .map(([k, v]) => ` ${k}="${escapeXml(v, `${path}/@${k}`)}"`)
    .join("");
  if (node.children.length === 0) return `${indent}<${node.name}${attrs}/>`;
  if (node.children.length === 1 && typeof node.children[0] === "string")
    return `${indent}<${node.name}${attrs}>${escapeXml(node.children[0], path)}</${node.name}>`;
  const inner = node.children
    .map((c) =>
      typeof c === "string"
        ? `${indent}  ${escapeXml(c, path)}`
        : serializeElement(c, `${indent}  `, `${path}/${c.name}`),
    )
    .join("\n");
  return `${indent}<${node.name}${attrs}>\n${inner}\n${indent}</${node.name}>`;
}

/** The text of an element with text content ("" when empty); undefined when it has child elements. */
export function textOf(node: XmlElement): string | undefined {
  if (node.children.length === 0) return "";
  return node.children.length === 1 && typeof node.children[0] === "string" ? node.children[0] : undefined;
}

/** The child elements named `name`. */
export function childrenNamed(node: XmlElement, name: string): XmlElement[] {
  return node.children.filter((c): c is XmlElement => typeof c !== "string" && c.name === name);
}

/** Largest document parsed (a report is a few KiB; an answer less). */
export const MAX_XML_BYTES = 1024 * 1024;
const MAX_DEPTH = 32;

/**
 * Parses one XML document in the subset above. Throws PHM_REPORT_XML (with the offset) on anything else.
 * Whitespace between elements is dropped; text is unescaped (the five predefined entities and character
 * references).
 */
export function parseXml(text: string, what = "the XML"): XmlElement {
  if (text.length > MAX_XML_BYTES) fail(what, 0, `is larger than ${MAX_XML_BYTES} bytes`);
  let at = 0;
  if (text.charCodeAt(0) === 0xfeff) at = 1;
  const skipSpace = () => {
    while (at < text.length && /\s/.test(text[at] as string)) at++;
  };
  skipSpace();
  if (text.startsWith("<?xml", at)) {
    const end = text.indexOf("?>", at);
    if (end < 0) fail(what, at, "has an XML declaration that does not end");
    const decl = text.slice(at, end);
    if (/encoding\s*=\s*["'](?!utf-8["'])/i.test(decl)) fail(what, at, "is not in UTF-8");
    at = end + 2;
  }
  skipSpace();
  const parseElement = (depth: number): XmlElement => {
    if (depth > MAX_DEPTH) fail(what, at, `nests deeper than ${MAX_DEPTH} elements`);
    if (text[at] !== "<") fail(what, at, "has text where an element was expected");
    if (text.startsWith("<!", at) || text.startsWith("<?", at))
      fail(what, at, "has a DOCTYPE, comment, CDATA section or processing instruction (refused)");
    at++;
    const name = readName();
    const attrs: Record<string, string> = {};
    for (;;) {
      const before = at;
      skipSpace();
      if (text.startsWith("/>", at)) {
        at += 2;
        return { name, ...(Object.keys(attrs).length > 0 && { attrs }), children: [] };
      }
      if (text[at] === ">") {
        at++;
        break;
      }
      if (before === at) fail(what, at, `has no space before an attribute of <${name}>`);
      const attr = readName();
      skipSpace();
      if (text[at] !== "=") fail(what, at, `has an attribute ${attr} without a value`);
      at++;
      skipSpace();
      const quote = text[at];
      if (quote !== '"' && quote !== "'") fail(what, at, `has an unquoted attribute ${attr}`);
      const end = text.indexOf(quote as string, at + 1);
      if (end < 0) fail(what, at, `has an attribute ${attr} that does not end`);
      if (Object.hasOwn(attrs, attr)) fail(what, at, `repeats the attribute ${attr} of <${name}>`);
      attrs[attr] = unescapeText(text.slice(at + 1, end), at + 1);
      at = end + 1;
    }
    const children: (XmlElement | string)[] = [];
    let textParts = "";
    for (;;) {
      if (at >= text.length) fail(what, at, `ends inside <${name}>`);
      if (text.startsWith("</", at)) {
        at += 2;
        const closing = readName();
        if (closing !== name) fail(what, at, `closes <${name}> with </${closing}>`);
        skipSpace();
        if (text[at] !== ">") fail(what, at, `has a malformed closing tag </${closing}>`);
        at++;
        break;
      }
      if (text[at] === "<") {
        children.push(parseElement(depth + 1));
        continue;
      }
      const next = text.indexOf("<", at);
      const end = next < 0 ? text.length : next;
      textParts += unescapeText(text.slice(at, end), at);
      at = end;
    }
    const elements = children.length;
    if (elements > 0 && textParts.trim() !== "") fail(what, at, `mixes text and elements in <${name}>`);
    if (elements === 0 && textParts !== "") children.push(textParts);
    return { name, ...(Object.keys(attrs).length > 0 && { attrs }), children };
  };
  const readName = (): string => {
    const match = /^[A-Za-z_][A-Za-z0-9._:-]*/.exec(text.slice(at, at + 256));
    if (match === null) fail(what, at, "has a malformed tag or attribute name");
    at += match[0].length;
    return match[0];
  };
  const unescapeText = (raw: string, offset: number): string => {
    if (holdsNonXml(raw)) fail(what, offset, "holds a character XML cannot carry");
    return raw.replace(/&([^;&<]{0,10});|&/g, (whole, ref: string | undefined) => {
      if (ref === undefined) fail(what, offset, "has a bare '&'");
      if (Object.hasOwn(CHAR_OF, ref)) return CHAR_OF[ref] as string;
      const num = /^#(x[0-9A-Fa-f]{1,6}|[0-9]{1,7})$/.exec(ref);
      if (num === null) fail(what, offset, `has an unknown entity ${whole}`);
      const code = (num[1] as string).startsWith("x")
        ? Number.parseInt((num[1] as string).slice(1), 16)
        : Number(num[1]);
      if (code > 0x10ffff) fail(what, offset, `has an invalid character reference ${whole}`);
      const char = String.fromCodePoint(code);
      if (holdsNonXml(char) || (code >= 0xd800 && code <= 0xdfff))
        fail(what, offset, `refers to a character XML cannot carry (${whole})`);
      return char;
    });
  };
  const root = parseElement(0);
  skipSpace();
  if (at !== text.length) fail(what, at, "has something after its root element");
  return root;
}

function fail(what: string, at: number, problem: string): never {
  throw new CliError("PHM_REPORT_XML", `${what} ${problem} (at character ${at})`);
}
