// Plain SVG elements for figures that place pictures and labels themselves (grids of images),
// where Observable Plot's scales add nothing.

export const SVG_NS = 'http://www.w3.org/2000/svg';

/** An SVG element with attributes and optional text. */
export function el<K extends keyof SVGElementTagNameMap>(doc: Document, tag: K, attrs: Record<string, string | number>, text?: string): SVGElementTagNameMap[K] {
  const node = doc.createElementNS(SVG_NS, tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  if (text !== undefined) node.textContent = text;
  return node;
}
